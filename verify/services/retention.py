"""Keeping personal data no longer than needed: reports' personal fields are blanked after the
retention period (their counts and indexes stay), old audit entries are dropped, and one reporter's
data is erased on request."""

import time

from verify import times
from verify.errors import NotFound
from verify.services.review import NO_REPORT

DAY = 86400
# What a report holds that says who reported or what they wrote; the rest is what the counts need.
PERSONAL = ("text", "number_raw", "contact_masked", "contact_hmac", "contact_sealed", "fingerprint", "amount_lost")


class Retention:
    """Purges and erasures; built once with the report store, the audit stream and the audit."""

    def __init__(self, reports, audit_log, audit, report_days, audit_days):
        self._reports = reports
        self._audit_log = audit_log
        self._audit = audit
        self._report_days = report_days
        self._audit_days = audit_days

    def purge(self, actor, now=None):
        """Blank the personal fields of reports received over the retention period ago, and drop
        audit entries older than theirs. Returns ``(reports redacted, audit entries dropped)``."""
        now = now or int(time.time())
        cutoff, redacted = now - self._report_days * DAY, 0
        since, after = self._reports.purge_mark() + 1, None  # the mark's second was done (times are whole seconds)
        while True:
            batch = self._reports.received_between(since, cutoff, after)
            for report_id, score in batch:
                redacted += self._reports.redact(report_id, PERSONAL, times.iso(now))
                since, after = int(score), report_id
            if len(batch) < 1000:
                break
        self._reports.purge_mark(cutoff)
        dropped = self._audit_log.trim_before(now - self._audit_days * DAY)
        self._audit.record(actor, "purge", detail=f"{redacted} reports redacted, {dropped} audit entries dropped")
        return redacted, dropped

    def erase(self, actor, reference):
        """Blank one report's personal fields (a reporter asked), audited; ``NotFound``."""
        if len(reference) > 32 or not self._reports.redact(reference, PERSONAL, times.iso()):
            raise NotFound(NO_REPORT)
        self._audit.record(actor, "report_erase", reference)

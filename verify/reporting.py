"""Filing a scam report: the one function the web form, the SMS REPORT command and the API call.

It validates, writes the report with its indexes (one Lua call), and raises the spoofing signal when
the report names one of our own numbers: scammers are showing it as caller ID.
"""

import logging
import time

from verify.registry import numbers, reports

log = logging.getLogger(__name__)


def file(svc, data, source, client_ip=None, limits=(), now=None):
    """File a report; return ``(id, received time)``. Raises ``Invalid`` (field problems) or
    ``reports.RateLimited``."""
    report = reports.clean_report(data, svc.region)
    now = now or int(time.time())
    report_id = reports.submit(svc.store, svc.hmac_key, report, source, now, client_ip, limits)
    # This process's copy of the registry (see registry.numbers) spares a lookup; only a process
    # that has not read the registry yet asks the store.
    if svc.registry.version is not None:
        official = svc.registry.exact.get(report["phone"].e164)
    else:
        official = numbers.entry_for(svc.store, report["phone"])
    if official is not None:
        log.warning("spoofing signal: report %s names our number %s (%s)", report_id, official["number"],
                    official["labels"]["en"])
    return report_id, now

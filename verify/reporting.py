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
    # The registry's version travels with the write (this process's copy of the registry, see
    # registry.numbers, is only read again when it changed), unless it was read within the last
    # second: current enough for the spoofing signal, and the write alone is one script call.
    also = None if svc.registry.fresh() else (lambda pipe: numbers.queue_version(pipe, svc.store))
    report_id, replies = reports.submit(svc.store, svc.hmac_key, report, source, now, client_ip, limits, also=also)
    if replies:
        numbers.refresh_if_changed(svc.store, svc.registry, replies[0])
    official = svc.registry.exact.get(report["phone"].e164)
    if official is not None:
        log.warning("spoofing signal: report %s names our number %s (%s)", report_id, official["number"],
                    official["labels"]["en"])
    return report_id, now

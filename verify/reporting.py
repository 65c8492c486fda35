"""Filing a scam report: the one function the web form, the SMS REPORT command and the API call.

It validates, writes the report with its indexes (one Lua call), and raises the spoofing signal when
the report names one of our own numbers: scammers are showing it as caller ID.
"""

import functools
import logging
import time

from verify.registry import numbers, reports

log = logging.getLogger(__name__)


def file(svc, data, source, client_ip=None, limits=(), now=None):
    """File a report; return ``(id, received time)``. Raises ``Invalid`` (field problems) or
    ``reports.RateLimited``."""
    report = reports.clean_report(data, svc.region)
    now = now or int(time.time())
    # The spoofing signal needs this process's copy of the registry: made current with the write.
    report_id = reports.submit(svc.store, svc.hmac_key, report, source, now, client_ip, limits,
                               run=functools.partial(numbers.run_current, svc.store, svc.registry))
    official = svc.registry.exact.get(report["phone"].e164)
    if official is not None:
        log.warning("spoofing signal: report %s names our number %s (%s)", report_id, official["number"],
                    official["labels"]["en"])
    return report_id, now

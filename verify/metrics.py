"""Prometheus metrics at /metrics, read from Redis so every worker process reports the same figures.
The only importer of prometheus_client."""

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily

from verify.registry import numbers, reports


class StoreCollector:
    """Collects at scrape time: spoofing reports per official number, reports per status."""

    def __init__(self, svc):
        self.svc = svc

    def collect(self):
        svc = self.svc
        spoofing = CounterMetricFamily(
            "verify_spoofing_reports", "Reports that name one of our official numbers (scammers spoof it)",
            labels=["number"])
        totals = reports.totals_by_number(svc.store, [e["number"] for e in numbers.all_entries(svc.store, svc.region)])
        for number, count in totals.items():
            spoofing.add_metric([number], count)
        yield spoofing
        queue = GaugeMetricFamily("verify_reports", "Reports by review status", labels=["status"])
        for status, count in reports.count_by_status(svc.store).items():
            queue.add_metric([status], count)
        yield queue


def exposition(svc):
    """The metrics in Prometheus' text format, and its content type."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(svc))
    return generate_latest(registry), CONTENT_TYPE_LATEST

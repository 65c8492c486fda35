"""Prometheus metrics at /metrics, read from Redis so every worker process reports the same figures.
The only importer of prometheus_client."""

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily


class StoreCollector:
    """Collects at scrape time: spoofing reports per official number, reports per status."""

    def __init__(self, review):
        self.review = review

    def collect(self):
        """The two metric families, read from the store now."""
        totals, by_status = self.review.spoofing_totals()
        spoofing = CounterMetricFamily(
            "verify_spoofing_reports", "Reports that name one of our official numbers (scammers spoof it)",
            labels=["number"])
        for number, count in totals.items():
            spoofing.add_metric([number], count)
        yield spoofing
        queue = GaugeMetricFamily("verify_reports", "Reports by review status", labels=["status"])
        for status, count in by_status.items():
            queue.add_metric([status], count)
        yield queue


def exposition(review):
    """The metrics in Prometheus' text format, and its content type."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(review))
    return generate_latest(registry), CONTENT_TYPE_LATEST

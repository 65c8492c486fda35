"""Scam reports: the keys every channel writes and the per-number counts the number check reads.

All report keys share the ``{reports}`` hash tag so a report and its indexes are written in one
MULTI. This module holds the read side the verdicts need; writing and review come with the reports
issue and use the same keys.
"""

DAY = 86400
TAG = "reports"


def reporters_key(store, e164):
    """Sorted set: distinct reporter fingerprints of one number, scored by their latest report time."""
    return store.key(TAG, f"reporters:{e164}")


def known_scam_key(store):
    """Set of E.164 numbers that support has confirmed as scam."""
    return store.key(TAG, "known-scam")


def queue_number_facts(pipe, store, e164, now):
    """Queue the reads the number verdict needs on ``pipe`` (distinct reporters in 30 days, confirmed)."""
    pipe.zcount(reporters_key(store, e164), now - 30 * DAY, "+inf")
    pipe.sismember(known_scam_key(store), e164)


def parse_number_facts(replies):
    """Turn the two replies queued by ``queue_number_facts`` into ``(reporters_30d, known_scam)``."""
    count, known = replies
    return int(count), bool(known)

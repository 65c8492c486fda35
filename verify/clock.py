"""Time as verify records it: UTC, ISO 8601 with a Z."""

import datetime as dt


def iso(timestamp=None):
    """ISO 8601 UTC for a Unix ``timestamp`` (now when None), to the second: 2026-11-30T01:02:03Z."""
    moment = dt.datetime.now(dt.timezone.utc) if timestamp is None else dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")

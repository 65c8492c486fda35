"""Time as verify records it: UTC, ISO 8601 with a Z."""

import time


def iso(timestamp=None):
    """ISO 8601 UTC for a Unix ``timestamp`` (now when None), to the second: 2026-11-30T01:02:03Z."""
    # time.strftime on a struct from gmtime: a third of the cost of building a datetime (hot path).
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if timestamp is None else timestamp))

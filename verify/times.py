"""Time as verify records and reads it: UTC, ISO 8601 with a Z. Pure: no framework, no store.

``iso`` writes a time; ``parse`` is the one reader of dates and times that people and clients send.
"""

import datetime as dt
import time

MAX_INPUT_CHARS = 40


def iso(timestamp=None):
    """ISO 8601 UTC for a Unix ``timestamp`` (now when None), to the second: 2026-11-30T01:02:03Z."""
    # strftime on gmtime rather than a datetime: cheaper, and every answer with a time makes one.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if timestamp is None else timestamp))


def parse(value, end_of_day=False, zone=dt.UTC):
    """A Unix time from ``2026-11-30`` (its start, or its last second with ``end_of_day``),
    ``2026-11-30T14:05[:00][Z|+08:00]`` (``zone`` when no offset is given) or Unix seconds.

    Raises ``ValueError`` for anything else: Unicode digits, thousands of digits, dates out of range.
    """
    text = str(value).strip()
    if not text or len(text) > MAX_INPUT_CHARS or not text.isascii():
        raise ValueError("not a date or time")
    if text.isdigit():
        if len(text) > 11:
            raise ValueError("not a time")
        return int(text)
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=zone)
        return int(start.timestamp()) + (86399 if end_of_day else 0)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return int((moment if moment.tzinfo else moment.replace(tzinfo=zone)).timestamp())


def day(timestamp):
    """The UTC date of ``timestamp`` as 2026-11-30."""
    return iso(timestamp)[:10]

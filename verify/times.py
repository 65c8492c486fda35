"""Time as verify records and reads it: UTC, ISO 8601 with a Z. Pure: no framework, no store.

``iso`` writes a time; ``parse`` is the one reader of dates and times that people and clients send.
``local`` and ``local_iso`` show a time to people in the service's zone (``VERIFY_TIMEZONE``):
pages and the dashboard use ``local`` (2026-11-29 14:05 (UTC+8)), exports ``local_iso``
(2026-11-29T14:05:00+08:00).
"""

import datetime as dt
import time
from zoneinfo import ZoneInfo

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


def zone(name):
    """The time zone called ``name`` (an IANA name such as Asia/Shanghai, or UTC)."""
    return ZoneInfo(name)


def _moment(value, where):
    """``value`` (Unix seconds, or a time ``parse`` reads) as an aware datetime in zone ``where``."""
    seconds = value if isinstance(value, int | float) else parse(value)
    return dt.datetime.fromtimestamp(int(seconds), where)


def local_iso(value, where):
    """ISO 8601 with the offset of zone ``where``: 2026-11-29T14:05:00+08:00; '' for an empty value."""
    if value in (None, ""):
        return ""
    return _moment(value, where).isoformat(timespec="seconds")


def local(value, where):
    """A time as people read it, in zone ``where`` and naming it: 2026-11-29 14:05 (UTC+8); '' for an
    empty value. The one format of the pages and the dashboard."""
    if value in (None, ""):
        return ""
    moment = _moment(value, where)
    return f"{moment:%Y-%m-%d %H:%M} ({offset_name(moment.utcoffset())})"


def offset_name(offset):
    """UTC, UTC+8, UTC-5 or UTC+5:30 for a ``timedelta`` offset from UTC."""
    minutes = int(offset.total_seconds()) // 60
    if not minutes:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def local_days(timestamp, count, where):
    """The ``count`` days in zone ``where`` up to the one holding ``timestamp``, oldest first, and the
    next: ``[(2026-11-29, its midnight in Unix seconds), ...]``, ``count + 1`` pairs (the last ends the
    others; its midnight, not its length, counts on days that change the clock)."""
    today = dt.datetime.fromtimestamp(timestamp, where).date()
    dates = [today - dt.timedelta(days=n) for n in range(count - 1, -2, -1)]
    return [(d.isoformat(), int(dt.datetime(d.year, d.month, d.day, tzinfo=where).timestamp())) for d in dates]

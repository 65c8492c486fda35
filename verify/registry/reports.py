"""Scam reports: one function files them for every channel (web, SMS, API); the number check reads
the per-number counts.

All report keys share the ``{reports}`` hash tag, so a report and its indexes are written by one
Lua call (one round trip, all or nothing, durable with AOF):

  {reports}:r:<id>               hash, the report
  {reports}:by-time              sorted set, id -> received time
  {reports}:status:<status>      sorted set per status, id -> received time
  {reports}:number:<e164>        sorted set per number, id -> received time
  {reports}:reporters:<e164>     sorted set per number, reporter fingerprint -> latest report time:
                                 distinct reporters in any window are one ZCOUNT, and a reporter who
                                 reports the same number again counts once
  {reports}:known-scam           set of numbers support has confirmed as scams
"""

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time

import redis

from verify import clock, fields, phones
from verify.errors import Invalid, NotFound
from verify.registry.store import unavailable_on_error

DAY = 86400
TAG = "reports"
CATEGORIES = ("sms_code", "card_password", "transfer", "screen_share", "cancel_account", "threats", "police_court", "other")
CHANNELS = ("call", "sms")
SOURCES = ("web", "sms", "api")
STATUSES = ("new", "reviewing", "confirmed_scam", "not_scam", "duplicate")
MAX_TEXT = 2000
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: people read references out


def _key(store, name):
    return store.key(TAG, name)


def reporters_key(store, e164):
    """Sorted set: distinct reporter fingerprints of one number, scored by their latest report time."""
    return _key(store, f"reporters:{e164}")


def known_scam_key(store):
    """Set of E.164 numbers that support has confirmed as scam."""
    return _key(store, "known-scam")


# KEYS: reporters of the number, known scams. ARGV: 30 days ago, the number.
_FACTS = """
return {redis.call('ZCOUNT', KEYS[1], ARGV[1], '+inf'), redis.call('SISMEMBER', KEYS[2], ARGV[2])}
"""


def number_facts(store, e164, now, run=None):
    """``(reporters_30d, known_scam)`` for ``e164``: distinct reporters in 30 days, confirmed scam.

    One script call, made through ``run(script, keys, args)`` when given (see numbers.run_current).
    """
    script, keys, args = store.script(_FACTS), [reporters_key(store, e164), known_scam_key(store)], [now - 30 * DAY, e164]
    count, known = run(script, keys, args) if run else script(keys, args)
    return int(count), bool(known)


def clean_report(data, region):
    """Validate what a reporter sent; return the clean fields or raise ``Invalid`` listing every problem.

    ``data``: number (required), occurred_at (ISO date-time, default now), channel (call|sms),
    categories (list), text (at most 2000 characters), amount_lost (number >= 0), reporter_phone.
    """
    errors = []
    fields.no_unknown(data, ("number", "occurred_at", "channel", "categories", "text", "amount_lost", "reporter_phone"), errors)
    phone = fields.number(data, "number", errors, region, reader=phones.parse_checked)
    channel = fields.choice(data, "channel", CHANNELS, errors, required=False) or "call"
    categories = data.get("categories") or []
    if not isinstance(categories, list) or any(c not in CATEGORIES for c in categories):
        errors.append(("categories", f"must be a list of: {', '.join(CATEGORIES)}"))
        categories = []
    text = data.get("text") or ""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        errors.append(("text", f"must be a text of at most {MAX_TEXT} characters"))
        text = ""
    occurred = _occurred_at(data.get("occurred_at"), errors)
    amount = _amount(data.get("amount_lost"), errors)
    reporter = fields.number(data, "reporter_phone", errors, region, required=False) if data.get("reporter_phone") else None
    if errors:
        raise Invalid(errors)
    return {
        "phone": phone,
        "number_raw": str(data["number"])[:64],
        "channel": channel,
        "categories": sorted(set(categories), key=CATEGORIES.index),
        "text": text.strip(),
        "occurred_at": occurred,
        "amount_lost": amount,
        "reporter": reporter,
    }


def _occurred_at(value, errors):
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors.append(("occurred_at", "must be a date and time like 2026-11-30T14:05"))
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    if moment > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5):
        errors.append(("occurred_at", "cannot be in the future"))
        return None
    return clock.iso(moment.timestamp())


def _amount(value, errors):
    if value in (None, ""):
        return None
    try:
        amount = round(float(value), 2)
    except (TypeError, ValueError):
        errors.append(("amount_lost", "must be an amount like 5000 or 199.50"))
        return None
    if not 0 <= amount < 1e10 or amount != amount:
        errors.append(("amount_lost", "must be an amount from 0 upwards"))
        return None
    return amount


def fingerprint(hmac_key, reporter_phone=None, client_ip=None):
    """Who reported, without saying who: HMAC of the reporter's phone, or of the client IP when anonymous."""
    subject = f"phone:{reporter_phone.e164}" if reporter_phone else f"ip:{client_ip or 'unknown'}"
    return hmac.new(hmac_key, subject.encode(), hashlib.sha256).hexdigest()[:32]


def new_id(now):
    """A reference people can read out: R + date + 6 characters, e.g. R261130-7KQ2MD.

    30 random bits a day: a busy day can repeat one, so the write refuses an id in use and
    ``submit`` draws another.
    """
    day = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%y%m%d")
    # One read of the system's randomness for all six characters (5 bits each), not one per character.
    bits = int.from_bytes(secrets.token_bytes(4), "big")
    return f"R{day}-" + "".join(_ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, 30, 5))


def build_record(hmac_key, report, source, now, client_ip=None):
    """The stored form of a cleaned report (from ``clean_report``), with a new id."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    reporter = report["reporter"]
    return {
        "id": new_id(now),
        "number": report["phone"].e164,
        "number_raw": report["number_raw"],
        "occurred_at": report["occurred_at"] or clock.iso(now),
        "received_at": clock.iso(now),
        "channel": report["channel"],
        "categories": ",".join(report["categories"]),
        "text": report["text"],
        "amount_lost": "" if report["amount_lost"] is None else f"{report['amount_lost']:.2f}",
        "contact_hmac": phones.number_hmac(hmac_key, reporter.e164) if reporter else "",
        "contact_masked": phones.mask(reporter.e164) if reporter else "",
        "fingerprint": fingerprint(hmac_key, reporter, client_ip),
        "source": source,
        "status": "new",
        "assignee": "",
        "notes": "[]",
        "history": json.dumps([{"at": clock.iso(now), "by": source, "change": "filed"}]),
    }


# KEYS: report, by-time, status:new, number:<e164>, reporters:<e164>, one counter per limit window,
# then the per-number and per-category totals. ARGV: number of limits, (amount, seconds) per limit,
# now, id, fingerprint, number, categories, then the report's fields as name, value, ... (handed to
# HSET as they are: decoding a JSON copy took Redis twice as long). Returns {1} when filed,
# {0, seconds to wait} when a limit is reached, {-1} when the id is taken (nothing counted or written).
_WRITE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
local limits = tonumber(ARGV[1])
for i = 1, limits do
  local used = tonumber(redis.call('GET', KEYS[5 + i]) or '0')
  if used >= tonumber(ARGV[2 * i]) then return {0, redis.call('TTL', KEYS[5 + i])} end
end
for i = 1, limits do
  if redis.call('INCR', KEYS[5 + i]) == 1 then redis.call('EXPIRE', KEYS[5 + i], ARGV[2 * i + 1]) end
end
local base = 2 + 2 * limits
local now, id = ARGV[base], ARGV[base + 1]
redis.call('HSET', KEYS[1], unpack(ARGV, base + 5))
-- Running totals for the dashboard's overview: reports per number and per category.
redis.call('ZINCRBY', KEYS[6 + limits], 1, ARGV[base + 3])
for category in string.gmatch(ARGV[base + 4], '[^,]+') do
  redis.call('HINCRBY', KEYS[7 + limits], category, 1)
end
redis.call('ZADD', KEYS[2], now, id)
redis.call('ZADD', KEYS[3], now, id)
redis.call('ZADD', KEYS[4], now, id)
-- GT keeps each reporter's latest time: one reporter counts once, in every window.
redis.call('ZADD', KEYS[5], 'GT', now, ARGV[base + 2])
return {1}
"""


class RateLimited(Exception):
    """Too many reports from one client; ``retry_after`` seconds until the next is accepted."""

    def __init__(self, retry_after):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def write_call(store, hmac_key, record, now, limits=(), limit_subject=""):
    """KEYS and ARGV of the write script for ``record``, with per-subject ``limits`` [(amount, seconds)]."""
    report_id, e164 = record["id"], record["number"]
    subject = hmac.new(hmac_key, f"limit:{limit_subject}".encode(), hashlib.sha256).hexdigest()[:24]
    keys = [
        _key(store, f"r:{report_id}"),
        _key(store, "by-time"),
        _key(store, "status:new"),
        _key(store, f"number:{e164}"),
        reporters_key(store, e164),
        *(_key(store, f"limit:{seconds}:{now // seconds}:{subject}") for _amount, seconds in limits),
        _key(store, "totals:numbers"),
        _key(store, "totals:categories"),
    ]
    args = [len(limits), *(v for pair in limits for v in pair), now, report_id, record["fingerprint"], e164,
            record["categories"]]
    args.extend(item for pair in record.items() for item in pair)
    return keys, args


@unavailable_on_error
def submit(store, hmac_key, report, source, now, client_ip=None, limits=(), run=None):
    """File a cleaned report with its indexes in one Lua call (one round trip, all or nothing);
    return its id.

    ``limits`` ([(amount, seconds)]) are counted per client IP in the same call; ``RateLimited`` when
    one is reached. The call is made through ``run(script, keys, args)`` when given (see
    numbers.run_current).
    """
    record = build_record(hmac_key, report, source, now, client_ip)
    script = store.script(_WRITE)
    for _attempt in range(3):
        keys, args = write_call(store, hmac_key, record, now, limits, client_ip or "")
        filed, *wait = run(script, keys, args) if run else script(keys, args)
        if filed == -1:
            record["id"] = new_id(now)  # that reference is taken today: draw another
            continue
        if not filed:
            raise RateLimited(max(int(wait[0]), 1))
        return record["id"]
    raise redis.exceptions.ResponseError("the report could not be filed after several attempts")


def bulk_submit(store, hmac_key, rows, batch=2000):
    """File many ``(record, now)`` pairs through the same script, pipelined (benchmarks, imports).

    Returns how many were filed; a record whose id is taken gets a new one and goes again."""
    script = store.script(_WRITE)
    filed, pending = 0, []

    def flush():
        nonlocal filed
        with store.redis.pipeline(transaction=False) as pipe:
            for record, now in pending:
                keys, args = write_call(store, hmac_key, record, now)
                script.queue_on(pipe, keys, args)
            answers = pipe.execute()
        again = [(dict(record, id=new_id(now)), now) for (record, now), (ok, *_) in zip(pending, answers) if ok == -1]
        filed += len(pending) - len(again)
        pending[:] = again

    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            flush()
    while pending:
        flush()
    return filed


@unavailable_on_error
def get(store, report_id):
    """The stored report, or None."""
    record = store.redis.hgetall(_key(store, f"r:{report_id}"))
    return record or None


@unavailable_on_error
def reporter_counts(store, e164, now):
    """Distinct reporters of ``e164`` in the last 24 hours, 7 days and 30 days."""
    key = reporters_key(store, e164)
    with store.redis.pipeline(transaction=False) as pipe:
        for days in (1, 7, 30):
            pipe.zcount(key, now - days * DAY, "+inf")
        day, week, month = pipe.execute()
    return {"24h": day, "7d": week, "30d": month}


# --- review -------------------------------------------------------------------------------------------
def _confirmed_key(store, e164):
    return _key(store, f"confirmed:{e164}")


def _decode(record):
    out = dict(record)
    out["categories"] = [c for c in out.get("categories", "").split(",") if c]
    out["notes"] = json.loads(out.get("notes") or "[]")
    out["history"] = json.loads(out.get("history") or "[]")
    out["amount_lost"] = float(out["amount_lost"]) if out.get("amount_lost") else None
    out.pop("contact_hmac", None)  # a lookup key, nothing a person needs to see
    return out


@unavailable_on_error
def find(store, status=None, number=None, category=None, since=None, until=None, cursor=None, limit=50):
    """Reports, newest first, from the sorted-set index that narrows most (number, status, or time).

    ``cursor`` is what the previous page returned. Returns ``(reports, next_cursor)``. Reads pages of
    the index and the reports in pipelines: a page costs a few round trips, whatever the store holds.
    """
    if status is not None and status not in STATUSES:
        raise Invalid([("status", f"must be one of {', '.join(STATUSES)}")])
    if category is not None and category not in CATEGORIES:
        raise Invalid([("category", f"must be one of {', '.join(CATEGORIES)}")])
    index = _key(store, f"number:{number}") if number else _key(store, f"status:{status}") if status else _key(store, "by-time")
    top, after = ("+inf", None) if cursor is None else _parse_cursor(cursor)
    if until is not None and (top == "+inf" or until < float(top)):
        top, after = until, None
    bottom = since if since is not None else "-inf"
    # Without a filter the index holds what is shown: read a page and a few more (reports of the same
    # second as the cursor are skipped). With one, read more (and more again) so that a page fills
    # without a round trip per report.
    filtered = category is not None or (status is not None and number is not None)
    found, chunk = [], max(limit * 2, 50) if filtered else limit + 10
    while len(found) < limit:
        page = store.redis.zrevrangebyscore(index, top, bottom, start=0, num=chunk, withscores=True)
        if after is not None:
            # Same-second reports sort by id: skip those already shown.
            page = [(m, s) for m, s in page if not (s == float(top) and m >= after)]
        if not page:
            return found, None
        with store.redis.pipeline(transaction=False) as pipe:
            for member, _score in page:
                pipe.hgetall(_key(store, f"r:{member}"))
            records = pipe.execute()
        for (member, score), record in zip(page, records, strict=False):
            top, after = score, member
            if not record:
                continue
            if (status and record["status"] != status) or (category and category not in record["categories"].split(",")):
                continue
            found.append(_decode(record))
            if len(found) == limit:
                return found, f"{score:.0f}:{member}"
        chunk = min(chunk * 2, 1000)  # a filter that matches few reports reads bigger pages next
    return found, None


def _parse_cursor(cursor):
    score, _, member = str(cursor).partition(":")
    if not score.isdigit() or not member:
        raise Invalid([("cursor", "is not a cursor this service gave out")])
    return score, member


@unavailable_on_error
def get_decoded(store, report_id):
    """A report as people see it (lists decoded), or ``NotFound``."""
    record = store.redis.hgetall(_key(store, f"r:{report_id}"))
    if not record:
        raise NotFound(report_id)
    return _decode(record)


@unavailable_on_error
def review(store, report_id, who, status=None, assignee=None, note=None, now=None):
    """Change a report's status, assignee and/or add a note; each change lands in its history.

    Confirming a report as scam makes its number ``known_scam``; when no confirmed report is left for
    the number, it stops being one (unless support marked it by hand).
    """
    now = now or int(time.time())
    errors = []
    if status is not None and status not in STATUSES:
        errors.append(("status", f"must be one of {', '.join(STATUSES)}"))
    if assignee is not None and (not isinstance(assignee, str) or len(assignee) > 32):
        errors.append(("assignee", "must be a staff name"))
    if note is not None and (not isinstance(note, str) or not note.strip() or len(note) > MAX_TEXT):
        errors.append(("note", f"must be a text of 1 to {MAX_TEXT} characters"))
    if errors:
        raise Invalid(errors)
    key = _key(store, f"r:{report_id}")
    with store.redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                record = pipe.hgetall(key)
                if not record:
                    raise NotFound(report_id)
                e164, old = record["number"], record["status"]
                history = json.loads(record["history"])
                changes = {}
                if status is not None and status != old:
                    changes["status"] = status
                    history.append({"at": clock.iso(now), "by": who, "change": f"status {old} -> {status}"})
                if assignee is not None and assignee != record["assignee"]:
                    changes["assignee"] = assignee
                    history.append({"at": clock.iso(now), "by": who, "change": f"assigned to {assignee or 'nobody'}"})
                if note is not None:
                    notes = json.loads(record["notes"])
                    notes.append({"at": clock.iso(now), "by": who, "text": note.strip()})
                    changes["notes"] = json.dumps(notes, ensure_ascii=False)
                    history.append({"at": clock.iso(now), "by": who, "change": "note added"})
                if not changes:
                    pipe.unwatch()
                    return _decode(record)
                changes["history"] = json.dumps(history, ensure_ascii=False)
                confirmed = pipe.scard(_confirmed_key(store, e164))
                pipe.multi()
                pipe.hset(key, mapping=changes)
                if "status" in changes:
                    received = _received_score(record)
                    pipe.zrem(_key(store, f"status:{old}"), report_id)
                    pipe.zadd(_key(store, f"status:{status}"), {report_id: received})
                    if status == "confirmed_scam":
                        pipe.sadd(_confirmed_key(store, e164), report_id)
                        pipe.sadd(known_scam_key(store), e164)
                    elif old == "confirmed_scam":
                        pipe.srem(_confirmed_key(store, e164), report_id)
                        if confirmed <= 1:
                            pipe.srem(known_scam_key(store), e164)
                pipe.execute()
                record.update(changes)
                return _decode(record)
            except redis.WatchError:
                continue  # someone changed the report meanwhile: read it again


def _received_score(record):
    # A report's score in its indexes: the Unix time it was received.
    return int(dt.datetime.fromisoformat(record["received_at"].replace("Z", "+00:00")).timestamp())


@unavailable_on_error
def mark_known_scam(store, e164, known):
    """Support marks a number as a confirmed scam by hand, or clears it (also clearing confirmations)."""
    with store.redis.pipeline() as pipe:
        if known:
            pipe.sadd(known_scam_key(store), e164)
        else:
            pipe.srem(known_scam_key(store), e164)
            pipe.delete(_confirmed_key(store, e164))
        pipe.execute()


@unavailable_on_error
def is_known_scam(store, e164):
    """True when the number is marked as a confirmed scam."""
    return bool(store.redis.sismember(known_scam_key(store), e164))


@unavailable_on_error
def overview(store, now, days=30, top=10):
    """For the dashboard's pictures: reports per UTC day (oldest first), the most reported numbers,
    and how often each category was named. One pipeline."""
    today = now - now % DAY
    with store.redis.pipeline(transaction=False) as pipe:
        for back in range(days - 1, -1, -1):
            start = today - back * DAY
            pipe.zcount(_key(store, "by-time"), start, start + DAY - 1)
        pipe.zrevrange(_key(store, "totals:numbers"), 0, top - 1, withscores=True)
        pipe.hgetall(_key(store, "totals:categories"))
        *per_day, top_numbers, categories = pipe.execute()
    return {
        "days": [{"day": clock.iso(today - back * DAY)[:10], "count": count}
                 for back, count in zip(range(days - 1, -1, -1), per_day, strict=False)],
        "top_numbers": [{"number": number, "count": int(score)} for number, score in top_numbers],
        "categories": {category: int(categories.get(category, 0)) for category in CATEGORIES},
    }


EXPORT_FIELDS = ("id", "number", "number_raw", "occurred_at", "received_at", "channel", "categories", "text",
                 "amount_lost", "contact_masked", "source", "status", "assignee")


def export_rows(store, limit=10000, **filters):
    """Up to ``limit`` reports matching ``filters`` (as ``find``), each with ``EXPORT_FIELDS`` only."""
    rows, cursor = [], None
    while len(rows) < limit:
        page, cursor = find(store, cursor=cursor, limit=min(200, limit - len(rows)), **filters)
        rows += [{field: report[field] for field in EXPORT_FIELDS} for report in page]
        if cursor is None:
            break
    return rows


@unavailable_on_error
def totals_by_number(store, e164s):
    """How many reports named each of ``e164s`` (all time)."""
    if not e164s:
        return {}
    scores = store.redis.zmscore(_key(store, "totals:numbers"), e164s)
    return {e164: int(score or 0) for e164, score in zip(e164s, scores)}


@unavailable_on_error
def count_by_status(store):
    """How many reports are in each review status."""
    with store.redis.pipeline(transaction=False) as pipe:
        for status in STATUSES:
            pipe.zcard(_key(store, f"status:{status}"))
        return dict(zip(STATUSES, pipe.execute()))

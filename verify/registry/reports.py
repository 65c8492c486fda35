"""Scam reports as stored: the write (one Lua call with its indexes, totals and the client's limit),
reads, paging through the indexes, and the counts the number check and the dashboard need.

All report keys share the ``{reports}`` hash tag, so a report and its indexes are written by one
Lua call (one round trip, all or nothing, durable with AOF):

  {reports}:r:<id>               hash, the report
  {reports}:by-time              sorted set, id -> received time
  {reports}:status:<status>      sorted set per status, id -> received time
  {reports}:number:<e164>        sorted set per number, id -> received time
  {reports}:reporters:<e164>     sorted set per number, reporter fingerprint -> latest report time:
                                 distinct reporters in any window are one ZCOUNT, and a reporter who
                                 reports the same number again counts once
  {reports}:confirmed:<e164>     set of the number's reports confirmed as scam
  {reports}:known-scam           set of numbers support has confirmed as scams
  {reports}:totals:numbers       sorted set, number -> reports naming it (all time)
  {reports}:totals:categories    hash, category -> reports naming it
  {reports}:l:report:<subject>:<s>   the limiter's counters of one client's reports
  {reports}:once:<subject>       hash (id, at, digest) of a report filed with an Idempotency-Key, a day
"""

import threading
import time
from dataclasses import dataclass

from verify import times
from verify.errors import NotFound
from verify.registry import replies
from verify.registry.store import pairs, unavailable_on_error

DAY = 86400
TAG = "reports"
ONCE_SECONDS = DAY  # how long a client's Idempotency-Key is remembered


@dataclass(frozen=True)
class Once:
    """A request that must take effect at most once: ``subject``, the keyed HMAC of the client and its
    Idempotency-Key; ``digest``, of the request's content (the same key for another request is refused)."""

    subject: str
    digest: str


@dataclass(frozen=True)
class Page:
    """Where a page of an index starts, newest first: at ``top`` (a score), past the report ``after``
    of that second when given (ids of one second are read in descending order), down to ``bottom``."""

    top: object = "+inf"
    after: str | None = None
    bottom: object = "-inf"


class FactsCache:
    """This process's copy of what the reports say about the numbers it checked in the last second.

    Every report key shares the one ``{reports}`` hash tag (a report is written with its indexes in one
    script), so on a Redis Cluster every number check would read from one primary, however many there
    are: checks would stop scaling there (README, Scaling out). During a campaign most checks are of
    the few numbers the scammers show. Facts read within ``FRESH_SECONDS`` are used as read, as the
    registry's copy is: a report filed or reviewed by this process shows at once (``forget``), one filed
    through another within that second. At most ``MAX_NUMBERS`` are kept: a flood of distinct numbers
    empties it and costs the reads it would have cost without it.
    """

    FRESH_SECONDS = 1.0
    MAX_NUMBERS = 10_000

    def __init__(self):
        self._facts = {}  # e164 -> (time.monotonic() when the read was sent, facts)
        self._changes_here = 0  # reports this process has filed or changed: a read across one is not kept
        self._lock = threading.Lock()  # a read kept and a change forgotten in turn, never interleaved

    def __len__(self):
        return len(self._facts)

    def get(self, e164):
        """The facts of ``e164`` read within ``FRESH_SECONDS``, else None."""
        found = self._facts.get(e164)
        return found[1] if found is not None and time.monotonic() - found[0] < self.FRESH_SECONDS else None

    def ticket(self):
        """Taken before a read: when it was sent (the copy's age counts from then) and this process's
        changes so far."""
        return time.monotonic(), self._changes_here

    def put(self, e164, facts, ticket):
        """Keep ``facts`` of ``e164`` read with ``ticket``, unless this process changed reports since."""
        sent, changes_seen = ticket
        with self._lock:
            if changes_seen != self._changes_here:
                return
            if len(self._facts) >= self.MAX_NUMBERS:
                self._facts.clear()
            self._facts[e164] = (sent, facts)

    def forget(self, *e164s):
        """This process changed the reports of ``e164s`` (every number when none is named)."""
        with self._lock:
            self._changes_here += 1
            if not e164s:
                self._facts.clear()
            for e164 in e164s:
                self._facts.pop(e164, None)


class Reports:
    """Report storage bound to one store, the number registry (for its copy's freshness) and the limiter."""

    def __init__(self, store, numbers, limits):
        self.store = store
        self.numbers = numbers
        self.limits = limits
        self.cache = FactsCache()
        self._write = store.script("report_write")
        self._facts = store.script("number_facts")

    def key(self, name):
        """A key under the reports' hash tag."""
        return self.store.key(TAG, name)

    def index_key(self, number=None, status=None):
        """The sorted-set index that narrows most: by number, else by status, else by time."""
        return self.key(f"number:{number}") if number else self.key(f"status:{status}") if status else self.key("by-time")

    @unavailable_on_error
    def facts(self, e164, now, before=()):
        """``(distinct reporters in 30 days, confirmed scam)`` for ``e164``, in the one round trip that
        also keeps the registry copy current and runs the scripts ``before`` (see ``Numbers.run_current``);
        from ``FactsCache`` when read within the last second. Returns ``([replies of before], facts)``."""
        known = self.cache.get(e164)
        if known is not None:
            return self.numbers.run_current(list(before)), known
        ticket = self.cache.ticket()
        keys, args = [self.key(f"reporters:{e164}"), self.key("known-scam")], [now - 30 * DAY, e164]
        *earlier, reply = self.numbers.run_current([*before, (self._facts, keys, args)])
        reply = pairs(reply)
        found = (int(reply["reporters_30d"]), bool(reply["known_scam"]))
        self.cache.put(e164, found, ticket)
        return earlier, found

    def write_call(self, record, now, windows=(), subject="", once=None):
        """KEYS and ARGV of the write script for ``record`` (a dict of fields with its id), counted
        against the client's report ``windows`` [(amount, seconds)] under ``subject``; ``once``: the
        request's ``Once`` (its Idempotency-Key), if it has one."""
        report_id, e164 = record["id"], record["number"]
        once = once or Once("", "")
        keys = [self.key(f"r:{report_id}"), self.key("by-time"), self.key("status:new"), self.key(f"number:{e164}"),
                self.key(f"reporters:{e164}"), self.key("totals:numbers"), self.key("totals:categories"),
                self.key(f"once:{once.subject}"), *self.limits.counters(TAG, f"report:{subject}", windows)]
        args = [now, report_id, record["fingerprint"], e164, record["categories"], ONCE_SECONDS if once.subject else 0,
                once.digest, len(windows), *(value for window in windows for value in window),
                *(item for pair in record.items() for item in pair)]
        return keys, args

    @unavailable_on_error
    def write(self, record, now, windows=(), subject="", once=None):
        """File ``record`` with its indexes in one Lua call, once per ``once`` (an Idempotency-Key);
        ``replies.Written``."""
        keys, args = self.write_call(record, now, windows, subject, once)
        try:
            return replies.filed(self.numbers.run_current([(self._write, keys, args)])[0])
        finally:  # after it, or whatever happened: a check that read across the write keeps nothing
            self.cache.forget(record["number"])

    @unavailable_on_error
    def exists(self, report_id):
        """True when a report ``report_id`` is stored."""
        return bool(self.store.redis.exists(self.key(f"r:{report_id}")))

    @unavailable_on_error
    def get(self, report_id):
        """The stored report (a dict of its fields), or None."""
        return self.store.redis.hgetall(self.key(f"r:{report_id}")) or None

    @unavailable_on_error
    def page(self, index, start, count, newest_first=True):
        """Up to ``count`` ids and scores of ``index`` from ``start`` (a ``Page``) down, newest first,
        with each report (None where it is gone); two round trips. Not ``newest_first``: oldest first,
        from ``start.top`` up to ``start.bottom`` (the report after one, in the queue's other direction)."""
        found = self._walk(index, start.top, start.after, start.bottom, count, newest_first=newest_first)
        if not found:
            return []
        with self.store.redis.pipeline(transaction=False) as pipe:
            for member, _score in found:
                pipe.hgetall(self.key(f"r:{member}"))
            records = pipe.execute()
        return [(member, score, record or None) for (member, score), record in zip(found, records, strict=True)]

    def _walk(self, index, first, after, last, count, newest_first):
        """Up to ``count`` (id, score) of ``index`` with scores from ``first`` to ``last``, in the sorted
        set's own order (by score, then by id; reversed when ``newest_first``), starting past the id
        ``after`` of second ``first`` when given. One round trip.

        (score, id) is unique, so a position holds however many reports share a second: the page is
        the rest of that second (its ids past ``after``, read whole: no offsets, so reports filed or
        moved meanwhile cannot shift it; ZRANGEBYLEX could seek within it, but Redis leaves its answer
        unspecified where scores differ) followed by the seconds beyond. Ids are ASCII, so Python
        compares them as Redis orders them (bytewise)."""
        in_range = float(first) >= float(last) if newest_first else float(first) <= float(last)
        with self.store.redis.pipeline(transaction=False) as pipe:
            read = pipe.zrevrangebyscore if newest_first else pipe.zrangebyscore  # both (key, first, last)
            if after is not None and in_range:
                read(index, first, first)
            read(index, first if after is None else f"({first}", last, start=0, num=count, withscores=True)
            *second, further = pipe.execute()
        rest = [(member, float(first)) for member in (second[0] if second else ())
                if (member < after if newest_first else member > after)]
        return (rest + further)[:count]

    def change(self, report_id, decide, along=lambda record, changes: (), may_mark=lambda e164: True):
        """Change one report (``change_many`` of one): returns it as it is now; ``NotFound``."""
        return self.change_many([report_id], decide, along, may_mark)[0]

    @unavailable_on_error
    def change_many(self, report_ids, decide, along=lambda record, changes: (), may_mark=lambda e164: True):
        """Change reports atomically against concurrent changes (WATCH), all of them or none:
        ``decide(record)`` returns the fields to change ({} for none); the scripts ``along(record,
        changes)`` (their audit entries) run in the same transaction. Keeps the status indexes and the
        known-scam set in step (a number is known scam while one of its reports is confirmed, or support
        marked it; a number for which ``may_mark(e164)`` is false, one of ours, is never added to it).
        Returns the reports as they are now, in order; ``NotFound`` (nothing changed) if one is missing."""
        keys = [self.key(f"r:{report_id}") for report_id in report_ids]

        def write(pipe):
            records = [pipe.hgetall(key) for key in keys]
            if not all(records):
                raise NotFound()
            plans = [(report_id, record, decide(dict(record))) for report_id, record in zip(report_ids, records, strict=True)]
            moved = {record["number"] for _id, record, changes in plans if changes.get("status", record["status"]) != record["status"]}
            # Confirmed reports per number, followed through the batch: two confirmations of one number
            # undone together must clear its known-scam mark.
            confirmed = {e164: pipe.scard(self.key(f"confirmed:{e164}")) for e164 in moved}
            pipe.multi()
            relayed.clear()  # a retry after a concurrent change starts again
            for report_id, record, changes in plans:
                if changes:
                    relayed.extend(self._queue_change(pipe, report_id, record, changes, along, may_mark, confirmed))
            return [{**record, **changes} for _id, record, changes in plans]

        relayed = []  # audit entries moved beside the reports on a cluster, relayed once the transaction ran
        try:
            changed = self.store.redis.transaction(write, *keys, value_from_callable=True)
        finally:
            self.cache.forget()  # a review may move any number's known-scam mark
        self.store.delivered(relayed)
        return changed

    def _queue_change(self, pipe, report_id, record, changes, along, may_mark, confirmed):
        # Returns what ``Store.delivered`` needs for audit entries moved beside the report on a cluster.
        e164, old, new = record["number"], record["status"], changes.get("status", record["status"])
        moved = self.store.queue_beside(pipe, along(record, changes), anchor=self.key(f"r:{report_id}"))
        pipe.hset(self.key(f"r:{report_id}"), mapping=changes)
        if new == old:
            return moved
        pipe.zrem(self.key(f"status:{old}"), report_id)
        pipe.zadd(self.key(f"status:{new}"), {report_id: times.parse(record["received_at"])})
        if new == "confirmed_scam":
            pipe.sadd(self.key(f"confirmed:{e164}"), report_id)
            confirmed[e164] += 1
            if may_mark(e164):
                pipe.sadd(self.key("known-scam"), e164)
        elif old == "confirmed_scam":
            pipe.srem(self.key(f"confirmed:{e164}"), report_id)
            if confirmed[e164] <= 1:
                pipe.srem(self.key("known-scam"), e164)
            confirmed[e164] -= 1
        return moved

    @unavailable_on_error
    def received_between(self, since, until, after=None, count=1000):
        """Up to ``count`` ids of reports received from ``since`` to ``until`` (Unix times), oldest first,
        with their times; past the report ``after`` of second ``since`` when given (where the last
        batch ended: a second can hold more than a batch)."""
        return self._walk(self.key("by-time"), since, after, until, count, newest_first=False)

    @unavailable_on_error
    def redact(self, report_id, fields, when):
        """Blank ``fields`` of a report and note ``when`` (its counts and indexes stay); its reporter's
        pseudonym leaves the number's reporters unless they reported the number again since. False if
        there is no such report."""
        key = self.key(f"r:{report_id}")
        number, fingerprint, received = self.store.redis.hmget(key, "number", "fingerprint", "received_at")
        if number is None:
            return False
        reporters = self.key(f"reporters:{number}")
        latest = self.store.redis.zscore(reporters, fingerprint) if fingerprint else None
        try:
            with self.store.redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping={**dict.fromkeys(fields, ""), "redacted_at": when})
                if latest is not None and latest <= times.parse(received):  # not reported by them again since
                    pipe.zrem(reporters, fingerprint)
                pipe.execute()
        finally:  # also when it timed out: it may have run (see ``write``)
            self.cache.forget(number)
        return True

    @unavailable_on_error
    def purge_mark(self, until=None):
        """The time up to which old reports were redacted (0 at first); with ``until``, move it there."""
        key = self.key("purged-until")
        if until is not None:
            self.store.redis.set(key, until)
        return int(self.store.redis.get(key) or 0)

    @unavailable_on_error
    def mark_known_scam(self, e164, known):
        """Mark a number as a confirmed scam by hand, or clear it (and its confirmations)."""
        try:
            with self.store.redis.pipeline(transaction=True) as pipe:
                if known:
                    pipe.sadd(self.key("known-scam"), e164)
                else:
                    pipe.srem(self.key("known-scam"), e164)
                    pipe.delete(self.key(f"confirmed:{e164}"))
                pipe.execute()
        finally:  # also when it timed out: Redis may run it when it wakes
            self.cache.forget(e164)

    @unavailable_on_error
    def is_known_scam(self, e164):
        """True when the number is marked as a confirmed scam."""
        return bool(self.store.redis.sismember(self.key("known-scam"), e164))

    @unavailable_on_error
    def reporter_counts(self, e164, now, days=(1, 7, 30)):
        """Distinct reporters of ``e164`` in each of the last ``days``."""
        with self.store.redis.pipeline(transaction=False) as pipe:
            for span in days:
                pipe.zcount(self.key(f"reporters:{e164}"), now - span * DAY, "+inf")
            return dict(zip(days, pipe.execute(), strict=True))

    @unavailable_on_error
    def counts_per_day(self, starts):
        """Reports received on each day between ``starts`` (Unix times of midnights, in order, one more
        than the days: the last is where the last day ends), with the most reported numbers and the
        categories' totals. One pipeline."""
        with self.store.redis.pipeline(transaction=False) as pipe:
            for start, end in zip(starts, starts[1:], strict=False):
                pipe.zcount(self.key("by-time"), start, end - 1)
            pipe.zrevrange(self.key("totals:numbers"), 0, 9, withscores=True)
            pipe.hgetall(self.key("totals:categories"))
            *per_day, top_numbers, categories = pipe.execute()
        return per_day, top_numbers, categories

    @unavailable_on_error
    def totals_by_number(self, e164s):
        """How many reports named each of ``e164s`` (all time)."""
        if not e164s:
            return {}
        scores = self.store.redis.zmscore(self.key("totals:numbers"), e164s)
        return {e164: int(score or 0) for e164, score in zip(e164s, scores, strict=True)}

    @unavailable_on_error
    def count_by_status(self, statuses):
        """How many reports are in each of ``statuses``."""
        with self.store.redis.pipeline(transaction=False) as pipe:
            for status in statuses:
                pipe.zcard(self.key(f"status:{status}"))
            return dict(zip(statuses, pipe.execute(), strict=True))

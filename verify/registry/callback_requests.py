"""Callback requests as stored: a borrower who hung up on a doubtful call asks the lender to call them
back (SMS 回电 / CALLBACK, the voice menu's 3). Not to be confused with callback *sessions*
(``sessions.py``), which the call centre opens before dialling; a request is answered by one.

All keys share the ``{cbr}`` hash tag, so asking (the one-per-number check, both limits, the request
and its index) is one Lua call, and so is closing one:

  {cbr}:r:<id>           hash, the request (fields below); kept its ttl and RETAIN_SECONDS after
  {cbr}:open             sorted set, id -> created (Redis's clock): requests not done yet, oldest
                         first; expired ones stay until their hashes go (the overview counts them)
  {cbr}:n:<number hmac>  hash (id, ct, ex) of the number's open request, gone when it expires or is done
  {cbr}:l:cbr-number-<subject>:<s>   the limiter's counter of one number's requests
  {cbr}:l:cbr-day:<s>                the limiter's counter of every request of the day
  {cbr}:l:cbr-day-<channel>:<s>      the limiter's counter of a spoofable channel's share of the day

The borrower's number is never stored readable: the lookup key is its keyed HMAC (purpose
``callback``), the number itself is sealed by the service (``ns``) and shown masked (``nm``).
Request fields: id, ct created, ex expires, st open | done, nh number HMAC, ns number sealed,
nm masked, pt the preferred time as written (cleaned), ch channel (sms, voice); when done: si the
session id, dn when, by who.
"""

import re
import secrets
from dataclasses import dataclass

from verify.errors import NotFound
from verify.registry import replies
from verify.registry.store import pairs, unavailable_on_error

TAG = "cbr"
RETAIN_SECONDS = 7 * 86400  # how long a request is kept after it expires (shown as expired, counted)
_ID = re.compile(r"^[0-9a-f]{12}$")
_CURSOR = re.compile(r"^(\d{1,12}(?:\.\d{1,17})?)-([0-9a-f]{12})$")


@dataclass(frozen=True)
class Request:
    """A stored callback request (the number sealed, as stored)."""

    id: str
    created: float
    expires: float
    status: str  # open or done
    number_hmac: str
    number_sealed: str
    masked: str
    preferred: str
    channel: str
    session_id: str | None = None
    done_at: int | None = None

    @classmethod
    def of(cls, record):
        """A request hash as a ``Request``."""
        return cls(record["id"], float(record["ct"]), float(record["ex"]), record["st"], record["nh"], record["ns"],
                   record["nm"], record.get("pt", ""), record.get("ch", ""), record.get("si"),
                   int(record["dn"]) if "dn" in record else None)


class CallbackRequests:
    """Callback-request storage bound to one store and the limiter; made once by the factory."""

    def __init__(self, store, limits):
        self.store = store
        self.limits = limits
        self._ask = store.script("callback_request_open")
        self._done = store.script("callback_request_done")

    def key(self, name):
        """A key of callback requests (all in the ``{cbr}`` slot)."""
        return self.store.key(TAG, name)

    @unavailable_on_error
    def ask(self, number_hmac, fields, ttl, per_number, per_day, channel_share=None, along=lambda request_id, only_if: ()):
        """Store a request for the number whose HMAC is ``number_hmac`` with ``fields`` (nm, ns, pt, ch),
        unless it has an open one, or one of the limits ``per_number`` / ``per_day`` / ``channel_share``
        (the channel's own share of the day, when given) (``(allowance, window)``) is reached; with the
        calls ``along(its id, (key, field, value) it leaves)`` (its audit entry) in the same script,
        made only when it was stored. ``replies.Asked``."""
        limits = [(f"cbr-number-{self.limits.subject('cbr', number_hmac)}", per_number), ("cbr-day", per_day)]
        if channel_share is not None:
            limits.append((f"cbr-day-{fields['ch']}", channel_share))
        counters = [key for name, window in limits for key in self.limits.counters(TAG, name, [window])]
        while True:  # 48 random bits: a second draw is already rare
            request_id = secrets.token_hex(6)
            keys = [self.key(f"n:{number_hmac}"), self.key("open"), self.key(f"r:{request_id}"), *counters]
            args = [request_id, ttl, RETAIN_SECONDS, len(limits), *(item for _name, window in limits for item in window),
                    *(item for pair in {**fields, "nh": number_hmac}.items() for item in pair)]
            stored = (self.key(f"r:{request_id}"), "nh", number_hmac)  # an id taken holds another number's
            reply, *_ = self.store.run_many([(self._ask, keys, args), *along(request_id, stored)])
            asked = replies.asked(pairs(reply))
            if asked.outcome != "id_taken":
                return asked

    @unavailable_on_error
    def get(self, request_id):
        """One request; ``NotFound`` for an unknown (or long gone) id or anything that cannot be one."""
        if not _ID.match(str(request_id)):
            raise NotFound()
        record = self.store.redis.hgetall(self.key(f"r:{request_id}"))
        if not record:
            raise NotFound()
        return Request.of(record)

    @unavailable_on_error
    def waiting(self, since, cursor=None, limit=50):
        """Requests not done and created after ``since`` (Unix seconds: older ones have expired),
        oldest first, from past ``cursor``; ``(requests, next cursor or None)``. One round trip for the
        index, one for the requests."""
        if cursor is not None and float(cursor[0]) <= since:
            cursor = None  # its place has expired since (or it was made up): from the first waiting one
        first, after = ("(" + repr(float(since)), None) if cursor is None else cursor
        found = self.store.redis.zrangebyscore(self.key("open"), first, "+inf", start=0, num=limit + 50, withscores=True)
        if after is not None:  # the rest of the cursor's instant, then what follows it
            score = float(first)
            found = [(m, s) for m, s in found if s > score or m > after]
        found = found[:limit + 1]
        with self.store.redis.pipeline(transaction=False) as pipe:
            for member, _score in found[:limit]:
                pipe.hgetall(self.key(f"r:{member}"))
            records = pipe.execute() if found else []
        requests = [Request.of(record) for record in records if record]
        more = len(found) > limit
        last = found[limit - 1] if more else None
        return requests, (f"{last[1]!r}-{last[0]}" if last else None)

    @unavailable_on_error
    def expired(self, until, limit=20):
        """The newest ``limit`` requests not done and created up to ``until`` (their time ran out)."""
        found = self.store.redis.zrevrangebyscore(self.key("open"), repr(float(until)), "-inf", start=0, num=limit)
        with self.store.redis.pipeline(transaction=False) as pipe:
            for member in found:
                pipe.hgetall(self.key(f"r:{member}"))
            records = pipe.execute() if found else []
        return [Request.of(record) for record in records if record]

    @staticmethod
    def read_cursor(text):
        """``(score, id)`` of a cursor ``waiting`` gave out, or None."""
        match = _CURSOR.match(text or "")
        return (match.group(1), match.group(2)) if match else None

    @unavailable_on_error
    def counts(self, since):
        """``{"open": waiting requests, "expired": requests not done, created up to ``since`` and kept
        (RETAIN_SECONDS: the index is pruned when a request is made, so an idle week leaves older ids)}``."""
        with self.store.redis.pipeline(transaction=False) as pipe:
            pipe.zcount(self.key("open"), "(" + repr(float(since)), "+inf")
            pipe.zcount(self.key("open"), repr(float(since) - RETAIN_SECONDS), repr(float(since)))
            waiting, expired = pipe.execute()
        return {"open": waiting, "expired": expired}

    @unavailable_on_error
    def done(self, request, session_id, who, along=lambda only_if: ()):
        """Close ``request`` (a ``Request``) with ``session_id``, with the calls ``along((key, field,
        value) it leaves)`` (its audit entry) in the same script, made only when this call closed it;
        ``replies.Closed``."""
        keys = [self.key(f"r:{request.id}"), self.key("open"), self.key(f"n:{request.number_hmac}")]
        token = secrets.token_hex(8)  # left by this very call: a second close with the same session leaves none
        reply, *_ = self.store.run_many([(self._done, keys, [request.id, session_id, who, token]),
                                         *along((keys[0], "dt", token))])
        return replies.closed(pairs(reply))

    @unavailable_on_error
    def now(self):
        """Redis's clock (Unix seconds): expiry is decided on the same clock the requests were stamped with."""
        seconds, micro = self.store.redis.time()
        return seconds + micro / 1e6

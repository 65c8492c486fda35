"""Callback sessions: opened by the call centre before dialling, checked by the borrower's code.

All keys of one borrower share a hash tag made from the HMAC of their number, so the code check, the
success or failure count and the lockout counter are one Lua script: one round trip, atomic across
every channel and client. A session id is that tag and a random suffix, so the API finds a session
by id alone.

Keys, for borrower tag T:
  {T}:s   hash, the borrower's current session; deleted by Redis TTL an hour after it expires
  {T}:f   wrong codes in the current lockout window (INCR, TTL = the window)

Session times come from Redis's own clock (TIME), so app servers with drifting clocks agree.

The session hash has two-letter field names: with a million sessions live during a campaign,
every byte counts (see bench/). The names:
  sx id suffix     cd code HMAC     cl calling number   cs numbers the agent may call from
  ai agent id      an agent name    pu purpose          lr loan reference
  ct created       ex expires       en ended            ok / fl right / wrong codes
  no pre-call notice
"""

import base64
import hashlib
import hmac
import json
import secrets

from verify import phones
from verify.errors import NotFound
from verify.registry import messages
from verify.registry.store import unavailable_on_error
from verify.verdicts import CodeOutcome, session_state

TAG_CHARS = 24  # 96 bits of the borrower HMAC: collisions are out of reach, keys stay short
RETAIN_SECONDS = 3600  # how long an expired or ended session can still be looked up

_CREATE = """
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'ct', now, 'ex', now + ttl, unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ttl + %d)
return {now, now + ttl}
""" % RETAIN_SECONDS

# KEYS: session hash, failure counter. ARGV: code HMAC, caller ('' = any), max failures, window.
# Returns {outcome, ...}: outcome 'locked' {seconds left}, 'genuine' {session fields},
# 'wrong' {1 if an active session exists else 0}.
_CHECK = """
local max, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local fails = tonumber(redis.call('GET', KEYS[2]) or '0')
if fails >= max then
  return {'locked', redis.call('TTL', KEYS[2])}
end
local s = redis.call('HMGET', KEYS[1], 'cd', 'ex', 'en', 'cl', 'cs', 'sx', 'ai', 'an', 'pu', 'ct')
local now = tonumber(redis.call('TIME')[1])
local active = s[1] and s[3] == false and now < tonumber(s[2])
if active and s[1] == ARGV[1] then
  local callers = s[5] or s[4]
  local caller_ok = ARGV[2] == '' or string.find(',' .. callers .. ',', ',' .. ARGV[2] .. ',', 1, true)
  if caller_ok then
    redis.call('HINCRBY', KEYS[1], 'ok', 1)
    return {'genuine', s[6], s[4], s[7], s[8], s[9], s[10], s[2]}
  end
end
if active then
  redis.call('HINCRBY', KEYS[1], 'fl', 1)
end
fails = redis.call('INCR', KEYS[2])
if fails == 1 then
  redis.call('EXPIRE', KEYS[2], window)
end
if fails >= max then
  return {'locked', redis.call('TTL', KEYS[2])}
end
return {'wrong', active and 1 or 0}
"""

# KEYS: session hash. ARGV: id suffix. Returns 1 if it was open and is now ended, 0 if it was
# already over, -1 if there is no such session.
_END = """
local s = redis.call('HMGET', KEYS[1], 'sx', 'en', 'ex')
if s[1] ~= ARGV[1] then return -1 end
if s[2] or tonumber(redis.call('TIME')[1]) >= tonumber(s[3]) then return 0 end
redis.call('HSET', KEYS[1], 'en', redis.call('TIME')[1])
return 1
"""

# KEYS: session hash. ARGV: id suffix, notice outcome. Only touches the session it names.
_NOTICE = """
if redis.call('HGET', KEYS[1], 'sx') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'no', ARGV[2])
  return 1
end
return 0
"""

# The SMS path in one call: claim the MessageSid (dedupe, sender limit), check the code, and keep the
# outcome with the claim (marked, as JSON) so that a retried delivery gets the same reply without
# checking again. KEYS: session hash, failure counter, claim, rate counter; ARGV: as _CHECK, then the
# claim's ttl, limit and window.
_CLAIM_AND_CHECK = (
    messages.claim_lua(keys_from=3, args_from=5)
    + "local function check()\n" + _CHECK + "end\n"
    + "local result = check()\n"
    + f"redis.call('SET', KEYS[3], '{messages.OUTCOME_LUA}' .. cjson.encode(result), 'EX', ARGV[5])\n"
    + "return result\n"
)

_DETAILS = ("id", "caller", "agent_id", "agent_name", "purpose", "created", "expires")


class Sessions:
    """Session operations bound to one store and the HMAC key; created once in the app factory."""

    def __init__(self, store, hmac_key, max_failures=5, lockout_seconds=900):
        self.store = store
        self.hmac_key = hmac_key
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self._create = store.script(_CREATE)
        self._check = store.script(_CHECK)
        self._claim_and_check = store.script(_CLAIM_AND_CHECK)
        self._end = store.script(_END)
        self._notice = store.script(_NOTICE)

    # --- keys -------------------------------------------------------------------------------
    def tag(self, e164):
        """The borrower's hash tag: a prefix of the keyed HMAC of their number (never the number)."""
        return phones.number_hmac(self.hmac_key, e164)[:TAG_CHARS]

    def _keys(self, tag):
        return self.store.key(tag, "s"), self.store.key(tag, "f")

    def _code_hmac(self, tag, code):
        # Bound to the borrower: the same code typed for another number never matches. 96 bits in
        # base64 (16 characters) hide the code as well as the full digest, in half the memory.
        digest = hmac.new(self.hmac_key, f"{tag}:{code}".encode(), hashlib.sha256).digest()[:12]
        return base64.b64encode(digest).decode()

    @staticmethod
    def _split_id(session_id):
        tag, _, suffix = str(session_id).partition("-")
        if len(tag) != TAG_CHARS or not suffix or not all(c in "0123456789abcdef" for c in tag + suffix):
            raise NotFound(session_id)
        return tag, suffix

    def _fields(self, tag, code, caller, callers, agent_id, agent_name, purpose, loan_ref=None, notice=None):
        """The stored session, but for its times (Redis's clock adds them); returns (id, fields)."""
        suffix = secrets.token_hex(4)
        fields = {"sx": suffix, "cd": self._code_hmac(tag, code), "cl": caller, "ai": agent_id, "an": agent_name,
                  "pu": purpose}
        if list(callers) != [caller]:
            fields["cs"] = ",".join(callers)  # only when the agent may call from more than one number
        if loan_ref:
            fields["lr"] = loan_ref
        if notice:
            fields["no"] = notice
        return f"{tag}-{suffix}", fields

    def _read(self, tag):
        # The borrower's session, wrong codes so far and Redis's clock, in one round trip.
        session_key, fail_key = self._keys(tag)
        with self.store.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(session_key)
            pipe.get(fail_key)
            pipe.time()
            record, fails, (now, _micro) = pipe.execute()
        return record, int(fails or 0), now

    # --- operations -------------------------------------------------------------------------
    @unavailable_on_error
    def open(self, borrower, caller, callers, agent_id, agent_name, purpose, loan_ref, ttl, notice=None):
        """Open a session (replacing the borrower's previous one); return ``(id, code, created, expires)``.

        ``borrower`` and ``caller`` are ``Phone``s; ``callers`` every E.164 the agent may call from;
        ``notice`` the first state of the pre-call SMS notice, if one was asked for.
        """
        tag = self.tag(borrower.e164)
        code = f"{secrets.randbelow(1_000_000):06d}"
        session_id, fields = self._fields(tag, code, caller.e164, callers, agent_id, agent_name, purpose, loan_ref, notice)
        argv = [ttl] + [item for pair in fields.items() for item in pair]
        created, expires = self._create(keys=[self._keys(tag)[0]], args=argv)
        return session_id, code, int(created), int(expires)

    @unavailable_on_error
    def bulk_load(self, rows, now, ttl, batch=5000):
        """Write many sessions with given codes in pipelined batches (benchmarks, migrations).

        ``rows``: iterable of ``(borrower e164, caller e164, callers, agent_id, agent_name, purpose, code)``.
        Times come from ``now`` (this process's clock), not Redis's.
        """
        pipe = self.store.redis.pipeline(transaction=False)
        count = 0
        for borrower, caller, callers, agent_id, agent_name, purpose, code in rows:
            tag = self.tag(borrower)
            key = self._keys(tag)[0]
            _id, fields = self._fields(tag, code, caller, callers, agent_id, agent_name, purpose)
            pipe.delete(key)
            pipe.hset(key, mapping={"ct": now, "ex": now + ttl, **fields})
            pipe.expire(key, ttl + RETAIN_SECONDS)
            count += 1
            if count % batch == 0:
                pipe.execute()
        pipe.execute()
        return count

    @unavailable_on_error
    def check(self, borrower, code, caller=None):
        """Check a code for ``borrower``; one round trip. Returns ``(CodeOutcome, details)``.

        ``details`` is the session (for genuine), or ``{"retry_after": s}`` when locked, else {}.
        """
        tag = self.tag(borrower.e164)
        session_key, fail_key = self._keys(tag)
        reply = self._check(
            keys=[session_key, fail_key],
            args=[self._code_hmac(tag, code), caller.e164 if caller else "", self.max_failures, self.lockout_seconds],
        )
        return self._outcome(tag, reply)

    @unavailable_on_error
    def check_message(self, tag, code, claim_keys, claim_args):
        """A texted code from the borrower whose ``tag`` it is (their message claim is under it too):
        claim the message and check the code in one round trip.

        Returns ``("dup", reply)`` or ``("limited", n)`` from the claim (see registry.messages), else
        ``("checked", (CodeOutcome, details))`` as ``check`` would.
        """
        session_key, fail_key = self._keys(tag)
        reply = self._claim_and_check(
            keys=[session_key, fail_key, *claim_keys],
            args=[self._code_hmac(tag, code), "", self.max_failures, self.lockout_seconds, *claim_args],
        )
        if reply[0] in ("dup", "limited"):
            return reply[0], reply[1]
        return "checked", self._outcome(tag, reply)

    def stored_outcome(self, tag, kept):
        """The code check ``check_message`` kept with a message's claim, as ``(CodeOutcome, details)``."""
        reply = [None if value is False else value for value in json.loads(kept[len(messages.OUTCOME):])]
        return self._outcome(tag, reply)

    @staticmethod
    def _outcome(tag, reply):
        outcome = reply[0]
        if outcome == "locked":
            return CodeOutcome(locked=True, matched=False, session_exists=False), {"retry_after": max(int(reply[1]), 1)}
        if outcome == "genuine":
            return CodeOutcome(locked=False, matched=True, session_exists=True), _details(tag, reply[1:])
        return CodeOutcome(locked=False, matched=False, session_exists=bool(reply[1])), {}

    @unavailable_on_error
    def get(self, session_id):
        """The session's state and counts for the call centre; ``NotFound`` if unknown or long gone."""
        tag, suffix = self._split_id(session_id)
        record, fails, now = self._read(tag)
        if record.get("sx") != suffix:
            raise NotFound(session_id)
        expires = int(record["ex"])
        state = session_state(
            ended="en" in record,
            expired=now >= expires,
            locked=fails >= self.max_failures,
            successes=int(record.get("ok", 0)),
        )
        return {
            "id": session_id,
            "status": state,
            "caller": record["cl"],
            "agent_id": record["ai"],
            "purpose": record["pu"],
            "loan_ref": record.get("lr"),
            "created": int(record["ct"]),
            "expires": expires,
            "ended": int(record["en"]) if "en" in record else None,
            "successful_checks": int(record.get("ok", 0)),
            "failed_checks": int(record.get("fl", 0)),
            "notice": record.get("no"),
        }

    @unavailable_on_error
    def current(self, borrower):
        """Is the lender calling this borrower now? ``("active", details)``, ``("locked", {})`` or ``("none", {})``.

        For the SMS question "is it really you calling?": the answer goes to the borrower's own phone.
        """
        tag = self.tag(borrower.e164)
        record, fails, now = self._read(tag)
        if fails >= self.max_failures:
            return "locked", {}
        if record and "en" not in record and now < int(record["ex"]):
            return "active", _details(tag, [record.get(name) for name in ("sx", "cl", "ai", "an", "pu", "ct", "ex")])
        return "none", {}

    @unavailable_on_error
    def set_notice(self, session_id, outcome):
        """Record how the pre-call notice went: sent, skipped_opted_out, failed or logged."""
        tag, suffix = self._split_id(session_id)
        self._notice(keys=[self._keys(tag)[0]], args=[suffix, outcome])

    @unavailable_on_error
    def end(self, session_id):
        """End a session after the call; idempotent. ``NotFound`` if there is no such session."""
        tag, suffix = self._split_id(session_id)
        if int(self._end(keys=[self._keys(tag)[0]], args=[suffix])) < 0:
            raise NotFound(session_id)


def _details(tag, values):
    details = dict(zip(_DETAILS, values, strict=False))
    details["id"] = f"{tag}-{details['id']}"
    details["created"], details["expires"] = int(details["created"]), int(details["expires"])
    return details

"""Callback sessions as stored: opened by the call centre before dialling, checked by the borrower's code.

All keys of one borrower share a hash tag made from the HMAC of their number, so the code check, the
success or failure count and the lockout counter are one Lua script: one round trip, atomic across
every channel and client. A session id is that tag and a random suffix, so a session is found by id.

Keys, for borrower tag T:
  {T}:s                  hash, the borrower's current session; deleted by Redis TTL an hour after it expires
  {T}:l:code-own:<s>     wrong codes texted from the borrower's own phone in the lockout window
  {T}:l:code-any:<s>     wrong codes typed where anyone can claim any phone (web, API, voice)
  {T}:lc                 the last-contact record: when a session of ours was last confirmed by a right
                         code or ended, from which number, by which agent (JSON); 90 days (Redis TTL)
Wrong codes are counted per kind of channel (the limiter's counters, see limits.py), so that nobody
can lock a borrower out of texting the right code from their own phone.

Session times come from Redis's own clock (TIME), so app servers with drifting clocks agree. The
last-contact record is written by the script that confirms or ends the session, so a call we made is
never forgotten because a second write failed, and asking "are you calling me?" reads it with the
session in one round trip.

The session hash has two-letter field names: with a million sessions live during a campaign,
every byte counts. The names:
  sx id suffix     cd code HMAC     cl calling number   cs numbers the agent may call from
  ai agent id      an agent name    pu purpose          lr loan reference
  ct created       ex expires       en ended            ok / fl right / wrong codes
  no pre-call notice
  by the staff login that opened it in the agent console (console sessions only)
  sc its code sealed (console sessions only: shown again to that agent while the session is live)
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from verify import phones
from verify.errors import NotFound
from verify.registry import replies
from verify.registry.replies import NewSession  # noqa: F401 (what open returns)
from verify.registry.store import pairs, unavailable_on_error

TAG_CHARS = 24  # 96 bits of the borrower HMAC: collisions are out of reach, keys stay short
RETAIN_SECONDS = 3600  # how long an expired or ended session can still be looked up
CONTACT_DAYS = 90  # how long a borrower's last-contact record is kept (Redis TTL)
CONTACT_SECONDS = CONTACT_DAYS * 86400
OWN, ANY = "own", "any"  # kinds of channel: the borrower's own phone (SMS); anyone (web, API, voice)
KINDS = (OWN, ANY)


@dataclass(frozen=True)
class SessionRecord:
    """A stored session with its counts, and the facts its state is decided from."""

    facts: replies.SessionFacts
    loan_ref: str | None
    ended: int | None
    successes: int
    failures: int
    notice: str | None
    now: float  # Redis's clock when it was read
    wrong_codes: dict  # kind of channel -> wrong codes in the borrower's current lockout window
    opened_by: str | None = None  # the staff login that opened it in the agent console
    sealed_code: str | None = None  # its code, sealed (console sessions only)


@dataclass(frozen=True)
class CallStatus:
    """Is the lender calling the borrower now: the live session (None if none), wrong codes per kind of
    channel in the current lockout window, and the last-contact record (None: none in 90 days)."""

    live: replies.SessionFacts | None
    wrong_codes: dict
    last_contact: replies.LastContact | None
    callers: tuple = ()  # the live session's numbers the agent may call from (E.164; empty without one)


@dataclass(frozen=True)
class SessionFields:
    """What the call centre says about a session it opens (numbers in E.164)."""

    caller: str
    callers: tuple  # every number the agent may call from
    agent_id: str
    agent_name: str
    purpose: str
    loan_ref: str | None = None
    notice: str | None = None
    opened_by: str | None = None  # the staff login, for sessions opened in the agent console
    sealed_code: str | None = None  # the code sealed, kept so that agent can see it again


class Sessions:
    """Session storage bound to one store, the limiter and the HMAC key; made once by the factory."""

    def __init__(self, store, limits, hmac_key, max_failures=5, lockout_seconds=900):
        self.store = store
        self.limits = limits
        self.hmac_key = hmac_key
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self._open = store.script("session_open")
        self._check = store.script("code_check")
        self._end = store.script("session_end")
        self._notice = store.script("session_notice")
        self._state = store.script("session_read")

    def tag(self, e164):
        """The borrower's hash tag: a prefix of the keyed HMAC of their number (never the number)."""
        return phones.number_hmac(self.hmac_key, e164, "borrower")[:TAG_CHARS]

    def session_key(self, tag):
        """The borrower's session hash."""
        return self.store.key(tag, "s")

    def contact_key(self, tag):
        """The borrower's last-contact record (see the module's docstring)."""
        return self.store.key(tag, "lc")

    def lockout_key(self, tag, kind):
        """The borrower's wrong-code counter for one kind of channel (the limiter's, one window)."""
        return self.limits.counters(tag, f"code-{kind}", [(self.max_failures, self.lockout_seconds)])[0]

    def code_hmac(self, tag, code):
        """The stored form of a code, bound to the borrower: the same code typed for another number never
        matches. 96 bits in base64 hide the code as well as the full digest, in half the memory."""
        digest = hmac.new(self.hmac_key, f"{tag}:{code}".encode(), hashlib.sha256).digest()[:12]
        return base64.b64encode(digest).decode()

    def lockout_args(self):
        """The code check's lockout arguments: wrong codes allowed, window."""
        return [self.max_failures, self.lockout_seconds]

    @staticmethod
    def split_id(session_id):
        """``(tag, suffix)`` of a session id; ``NotFound`` for anything that cannot be one."""
        tag, _, suffix = str(session_id).partition("-")
        if len(tag) != TAG_CHARS or not suffix or len(suffix) > 16 or not all(c in "0123456789abcdef" for c in tag + suffix):
            raise NotFound()
        return tag, suffix

    def stored_fields(self, tag, code, fields):
        """The hash fields of a new session but its times (Redis's clock adds them); ``(suffix, fields)``."""
        suffix = secrets.token_hex(4)
        stored = {"sx": suffix, "cd": self.code_hmac(tag, code), "cl": fields.caller, "ai": fields.agent_id,
                  "an": fields.agent_name, "pu": fields.purpose}
        if list(fields.callers) != [fields.caller]:
            stored["cs"] = ",".join(fields.callers)  # only when the agent may call from more than one number
        if fields.loan_ref:
            stored["lr"] = fields.loan_ref
        if fields.notice:
            stored["no"] = fields.notice
        if fields.opened_by:
            stored["by"] = fields.opened_by
        if fields.sealed_code:
            stored["sc"] = fields.sealed_code
        return suffix, stored

    @unavailable_on_error
    def open(self, borrower_e164, fields, ttl, code, along=lambda session_id, only_if: (), once=None, only_if_none=False):
        """Open a session for the borrower (replacing their previous one) with ``code``, in one script
        with the calls ``along(its id, (key, field, value) it leaves)`` (its audit entry): all of it
        happens or none (a refused write leaves the borrower's current session as it was). With
        ``once`` (``(Once, the code sealed)``) a retry of the same request opens nothing and answers
        the first session, its code as sealed. With ``only_if_none`` a live session of the borrower is
        left as it is and answered (``live``, no code). ``replies.Opened``."""
        return self._open_for(self.tag(borrower_e164), fields, ttl, code, along, once, "none" if only_if_none else "")

    @unavailable_on_error
    def reopen(self, session_id, fields, ttl, code, along=lambda session_id, only_if: ()):
        """Open a new session for the borrower of ``session_id`` (its code stops working), unless the
        borrower's live session is another one by now: that one is answered (``live``, no code).
        ``NotFound`` for an id that cannot be one."""
        tag, suffix = self.split_id(session_id)
        return self._open_for(tag, fields, ttl, code, along, None, f"sx:{suffix}")

    def _open_for(self, tag, fields, ttl, code, along, once, guard):
        suffix, stored = self.stored_fields(tag, code, fields)
        request, sealed = once or (None, "")
        keys = [self.session_key(tag), self.store.key(tag, f"once:{request.subject if request else ''}")]
        # A retry is answered while the session can be looked up; its code, sealed, is gone with it.
        args = [ttl, RETAIN_SECONDS, ttl + RETAIN_SECONDS if request else 0, request.digest if request else "", sealed, guard,
                *(item for pair in stored.items() for item in pair)]
        session_id = f"{tag}-{suffix}"
        reply, *_ = self.store.run_many([(self._open, keys, args),
                                         *along(session_id, (self.session_key(tag), "sx", suffix))])
        return replies.opened(pairs(reply), tag, session_id, code)

    @unavailable_on_error
    def check(self, borrower_e164, code, caller_e164=None, kind=ANY):
        """Check a code for the borrower and count a wrong one against ``kind`` of channel, in one
        round trip; a ``CodeCheck``."""
        tag, (script, keys, args) = self._check_call(borrower_e164, code, caller_e164, kind)
        return replies.code_check(pairs(script(keys, args)), tag)

    @unavailable_on_error
    def check_after(self, before, borrower_e164, code, caller_e164=None, kind=ANY):
        """``check``, in the same round trip as the scripts ``before`` (a client's limit): returns
        ``([their replies], CodeCheck)``."""
        tag, call = self._check_call(borrower_e164, code, caller_e164, kind)
        *earlier, reply = self.store.run_many([*before, call])
        return earlier, replies.code_check(pairs(reply), tag)

    def _check_call(self, borrower_e164, code, caller_e164, kind):
        tag = self.tag(borrower_e164)
        return tag, (self._check, [self.session_key(tag), self.lockout_key(tag, kind), self.contact_key(tag)],
                     [self.code_hmac(tag, code), caller_e164 or "", *self.lockout_args(), CONTACT_SECONDS])

    def _read(self, tag, contact=False):
        # The borrower's session, wrong codes so far per kind, Redis's clock and (``contact``) the
        # last-contact record's text (None without it), in one round trip.
        keys = [self.session_key(tag), *(self.lockout_key(tag, kind) for kind in KINDS)]
        flat, wrong, (now, micro), last = self._state(keys=[*keys, *([self.contact_key(tag)] if contact else [])])
        record = pairs(flat)
        now, micro, last = int(now), int(micro), last or None
        wrong_codes = {kind: int(count or 0) for kind, count in zip(KINDS, wrong, strict=True)}
        return record, wrong_codes, now + micro / 1e6, last

    @unavailable_on_error
    def get(self, session_id):
        """The stored session; ``NotFound`` if unknown or long gone."""
        tag, suffix = self.split_id(session_id)
        record, wrong, now, _ = self._read(tag)
        if record.get("sx") != suffix:
            raise NotFound()
        return SessionRecord(
            facts=replies.session_facts(record, tag), loan_ref=record.get("lr"),
            ended=int(record["en"]) if "en" in record else None, successes=int(record.get("ok", 0)),
            failures=int(record.get("fl", 0)), notice=record.get("no"), now=now, wrong_codes=wrong,
            opened_by=record.get("by"), sealed_code=record.get("sc"),
        )

    @unavailable_on_error
    def live_id(self, session_id):
        """The id of the live session (not ended, not expired) of the borrower ``session_id`` belongs
        to, whichever session that is now, or None; ``NotFound`` for an id that cannot be one."""
        tag, _suffix = self.split_id(session_id)
        record, _wrong, now, _ = self._read(tag)
        live = record and "en" not in record and now < float(record["ex"])
        return f"{tag}-{record['sx']}" if live else None

    @unavailable_on_error
    def status(self, borrower_e164):
        """Is the lender calling the borrower now, in one round trip, counting nothing: a ``CallStatus``."""
        tag = self.tag(borrower_e164)
        record, wrong, now, last = self._read(tag, contact=True)
        live = record and "en" not in record and now < float(record["ex"])
        if not live:
            return CallStatus(None, wrong, replies.last_contact(last))
        callers = tuple((record.get("cs") or record["cl"]).split(","))
        return CallStatus(replies.session_facts(record, tag), wrong, replies.last_contact(last), callers)

    @unavailable_on_error
    def set_notice(self, session_id, outcome):
        """Record how the pre-call notice went: sent, skipped_opted_out, failed or logged."""
        tag, suffix = self.split_id(session_id)
        self._notice(keys=[self.session_key(tag)], args=[suffix, outcome])

    @unavailable_on_error
    def end(self, session_id):
        """End a session after the call (leaving the borrower's last-contact record, in the same script);
        idempotent. ``NotFound`` if there is no such session."""
        tag, suffix = self.split_id(session_id)
        ended = self._end(keys=[self.session_key(tag), self.contact_key(tag)], args=[suffix, CONTACT_SECONDS])
        if pairs(ended)["ended"] == "unknown":
            raise NotFound()

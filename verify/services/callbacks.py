"""Callback sessions: the call centre opens one before dialling (API or agent console), reads its code
to the borrower, and ends it after the call; the pre-call notice SMS goes out in the background."""

import dataclasses
import logging
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

from verify import phones
from verify import verdicts as v
from verify.errors import N_, Invalid, NotFound, StoreUnavailable
from verify.messaging import SendFailed
from verify.registry.sessions import ANY, KINDS, OWN, NewSession, SessionFields
from verify.services import advice, fields
from verify.services.once import KEY_REUSED, once_of

log = logging.getLogger(__name__)

NO_SESSION = "There is no such session (sessions are forgotten an hour after they expire)."
_AGENT_ID = re.compile(r"^[A-Za-z0-9._-]+$")
# How the call centre reads the kinds of channel wrong codes are counted for.
CHANNELS = {OWN: "sms", ANY: "web_api"}
_API_FIELDS = ("borrower", "caller", "agent_id", "agent_name", "purpose", "loan_ref", "ttl_seconds", "notify")


class Callbacks:
    """Opening, reading and ending sessions; built once with its collaborators."""

    def __init__(self, sessions, numbers, notices, audit, sealer, hmac_key, region, ttl, ttl_max):
        self._sessions = sessions
        self._hmac_key = hmac_key
        self._sealer = sealer
        self._numbers = numbers
        self._notices = notices
        self._audit = audit
        self._region = region
        self._ttl = ttl
        self._ttl_max = ttl_max

    def read(self, data):
        """An API request to open a session, checked: ``(borrower, SessionFields, ttl, notify)``;
        ``Invalid`` listing every problem."""
        errors = []
        fields.no_unknown(data, _API_FIELDS, errors)
        borrower = fields.number(data, "borrower", errors, self._region, reader=phones.normalise_mobile)
        caller = fields.number(data, "caller", errors, self._region)
        # Short enough to fit one SMS with everything else a genuine reply says.
        agent_id = fields.text(data, "agent_id", errors, 12)
        if agent_id and not _AGENT_ID.match(agent_id):
            errors.append(("agent_id", "use letters, digits, dot, dash or underscore"))
        agent_name = fields.text(data, "agent_name", errors, 32)
        purpose = fields.text(data, "purpose", errors, 120)
        loan_ref = fields.text(data, "loan_ref", errors, 64, required=False)
        ttl = data.get("ttl_seconds", self._ttl)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= self._ttl_max:
            errors.append(("ttl_seconds", f"must be a whole number of seconds from 1 to {self._ttl_max}"))
        notify = data.get("notify", False)
        if not isinstance(notify, bool):
            errors.append(("notify", "must be true or false"))
        entry = self._caller_entry(caller, errors)
        if errors:
            raise Invalid(errors)
        return borrower, SessionFields(caller.e164, (entry["number"], *entry["variants"]), agent_id, agent_name,
                                       purpose, loan_ref), ttl, notify

    def _caller_entry(self, caller, errors):
        entry = self._numbers.entry_for(caller.e164) if caller else None
        if caller and (entry is None or entry["status"] != "active" or entry["direction"] == "inbound_only"):
            errors.append(("caller", N_("must be an active official number that calls out")))
        return entry

    def open(self, actor, borrower, session, ttl=None, notify=False, idempotency_key=None, request=None):
        """Open a session for ``borrower`` (a ``Phone``) with ``session`` (``SessionFields``); returns the
        ``NewSession`` and the notice's first state (None when none was asked for). Audited, in the same
        script. With an ``idempotency_key``, a retry of the same ``request`` answers the first session
        (its code too) and opens, notifies and audits nothing."""
        ttl = ttl or self._ttl
        code = _new_code()
        once = None
        if idempotency_key is not None:
            once = once_of(self._hmac_key, actor, idempotency_key, request), self._sealer.seal(code)
        notice = self._notices.first_state(borrower) if notify else None
        # The loan reference is the lender's and can name the borrower: kept sealed, read back by the API.
        session = dataclasses.replace(session, notice=notice, loan_ref=self._sealer.seal(session.loan_ref))
        detail = f"{phones.mask(borrower.e164)} agent {session.agent_id}"
        opened = self._sessions.open(borrower.e164, session, ttl, code, once=once, along=lambda session_id, only_if: [
            self._audit.along(actor, "session_start", session_id, detail, only_if)])
        if opened.reused:
            raise Invalid([("Idempotency-Key", KEY_REUSED)])
        if opened.again:
            return dataclasses.replace(opened, code=self._sealer.open(opened.code)), notice
        if notice:
            self._notices.dispatch(opened.id, notice, borrower, session.caller, ttl)
        return opened, notice

    def open_for_agent(self, actor, agent, borrower_raw, caller, purpose, lines, notify=False):
        """The agent console: a session for the typed borrower number, from ``caller`` (E.164, one of
        the ``lines`` the console offers), under the agent's display name and agent id (``agent``, see
        ``StaffAccounts.agent``), its code kept sealed so that this agent can see it again. A borrower
        with a live session keeps it: that session is answered (``live``), nothing is opened (nor texted).
        ``notify`` texts the borrower the pre-call notice, as the API's ``"notify": true`` does. Returns
        ``(borrower, NewSession)``; ``Invalid`` for a bad number, line or purpose."""
        errors = []
        borrower = fields.number({"borrower": borrower_raw}, "borrower", errors, self._region, reader=phones.normalise_mobile)
        entry = _line(caller, lines, errors)
        purpose = fields.text({"purpose": purpose}, "purpose", errors, 120)
        if errors:
            raise Invalid(errors)
        code = _new_code()
        detail = f"{phones.mask(borrower.e164)} agent {agent['agent_id']}"
        notice = self._notices.first_state(borrower) if notify else None
        stored = dataclasses.replace(self._agent_fields(actor, agent, entry, purpose, code), notice=notice)
        opened = self._sessions.open(borrower.e164, stored, self._ttl, code, only_if_none=True,
                                     along=lambda session_id, only_if: [
                                         self._audit.along(actor, "session_start", session_id, detail, only_if)])
        if notice and not opened.live:
            self._notices.dispatch(opened.id, notice, borrower, entry["number"], self._ttl)
        return borrower, opened

    def replace_for_agent(self, actor, agent, session_id, lines):
        """The agent console's explicit replace: a new session (a new code) for the borrower of
        ``session_id``, from the same line, for the same purpose, under this agent; the old code stops
        working at once. If another session became the borrower's live one meanwhile, that one is
        answered (``live``) and nothing is opened. ``NotFound``; ``Invalid`` when the line no longer calls."""
        try:
            old = self._sessions.get(session_id).facts
        except NotFound:  # replaced already: the borrower's live session (if any) is shown, not replaced
            live = self._sessions.live_id(session_id)
            if live is None:
                raise NotFound(NO_SESSION) from None
            return NewSession(live, "", 0, 0, live=True)
        errors = []
        entry = _line(old.caller, lines, errors)
        if errors:
            raise Invalid(errors)
        code = _new_code()
        detail = f"replaces {session_id} agent {agent['agent_id']}"
        return self._sessions.reopen(session_id, self._agent_fields(actor, agent, entry, old.purpose, code), self._ttl,
                                     code, along=lambda new_id, only_if: [
                                         self._audit.along(actor, "session_replace", new_id, detail, only_if)])

    def _agent_fields(self, actor, agent, entry, purpose, code):
        return SessionFields(entry["number"], (entry["number"], *entry["variants"]), agent["agent_id"],
                             agent["display_name"], purpose, opened_by=actor.who, sealed_code=self._sealer.seal(code))

    def _record(self, session_id):
        try:
            return self._sessions.get(session_id)
        except NotFound:
            raise NotFound(NO_SESSION) from None

    def _state_of(self, record):
        facts = record.facts
        locked = [CHANNELS[kind] for kind in KINDS if record.wrong_codes[kind] >= self._sessions.max_failures]
        status = v.session_state(ended=record.ended is not None, expired=record.now >= facts.expires,
                                 locked=len(locked) == len(KINDS), successes=record.successes)
        return {
            "id": facts.id, "status": status, "locked_channels": sorted(locked), "caller": facts.caller,
            "agent_id": facts.agent_id,
            "purpose": facts.purpose, "loan_ref": self._sealer.open(record.loan_ref), "created": int(facts.created),
            "expires": int(facts.expires), "ended": record.ended, "successful_checks": record.successes,
            "failed_checks": record.failures, "notice": record.notice,
        }

    def state(self, session_id):
        """A session's state and counts for the call centre; ``NotFound``."""
        return self._state_of(self._record(session_id))

    def state_for_agent(self, session_id, who):
        """``state`` for the agent console, with the agent's display name, ``mine`` (the staff member
        ``who`` opened it in the console) and, for that staff member only and only until the session
        ends or expires, the ``code``; ``NotFound``."""
        record = self._record(session_id)
        state = self._state_of(record)
        mine = record.opened_by is not None and record.opened_by == who
        live = state["status"] not in (v.ENDED, v.EXPIRED)
        return {**state, "agent_name": record.facts.agent_name, "mine": mine, "console": record.opened_by is not None,
                "code": self._sealer.open(record.sealed_code) if mine and live else None}

    def end(self, actor, session_id):
        """End a session after the call (its code stops working at once); idempotent. Audited; ``NotFound``."""
        try:
            self._sessions.end(session_id)
        except NotFound:
            raise NotFound(NO_SESSION) from None
        self._audit.record(actor, "session_end", session_id)


def _new_code():
    return f"{secrets.randbelow(1_000_000):06d}"


def _line(caller, lines, errors):
    # The console's line: one of those it offered (active, calling out, not an SMS number).
    entry = next((e for e in lines if e["number"] == caller), None)
    if entry is None:
        errors.append(("caller", N_("choose one of the callback lines offered")))
    return entry


class Notices:
    """Decides and sends pre-call notices; built once in the app factory."""

    def __init__(self, messages, sessions, twilio, hmac_key, region, brand, lang="zh"):
        self._messages = messages
        self._sessions = sessions
        self._twilio = twilio
        self._hmac_key = hmac_key
        self._region = region
        self._brand = brand
        self._lang = lang
        self._pool = None
        self._pool_pid = None

    def text(self, caller_e164, ttl):
        """The notice itself, in the default SMS language."""
        minutes = max(1, round(ttl / 60))
        return advice.sms("notice", self._lang, self._brand, minutes=minutes, caller=phones.display(caller_e164, self._region))

    def first_state(self, borrower):
        """Before the session is stored: skipped_opted_out, logged (no credentials) or pending."""
        if self._messages.opted_out(phones.number_hmac(self._hmac_key, borrower.e164, "optout")):
            return "skipped_opted_out"
        return "pending" if self._twilio.can_send else "logged"

    def dispatch(self, session_id, state, borrower, caller_e164, ttl):
        """Act on ``first_state``: log the notice, or send it in the background."""
        body = self.text(caller_e164, ttl)
        if state == "logged":
            log.info("pre-call notice (no Twilio credentials) to %s: %s", phones.mask(borrower.e164), body)
        elif state == "pending":
            self._executor().submit(self._send, session_id, borrower.e164, body)

    def _executor(self):
        # Threads do not survive a fork: one pool per worker process.
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool, self._pool_pid = ThreadPoolExecutor(max_workers=2, thread_name_prefix="notice"), os.getpid()
        return self._pool

    def _send(self, session_id, to, body):
        try:
            self._twilio.send(to, body)
            outcome = "sent"
        except SendFailed as exc:
            log.warning("pre-call notice to %s failed: %s", phones.mask(to), exc)
            outcome = "failed"
        try:
            self._sessions.set_notice(session_id, outcome)
        except StoreUnavailable:
            log.warning("could not record the notice outcome for a session")

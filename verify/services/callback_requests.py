"""Callback requests: a borrower who hung up on a doubtful call asks the lender to call back (SMS 回电 /
CALLBACK, the hotline's 3), always for the number they text or call from, never for a number in the
text (a stranger could get someone else called). Agents work the requests in the console, the call
centre through the API; each is closed with the callback session that answered it.

Not the callback *sessions* (``callbacks.py``): a request asks for a call, a session is that call.
"""

import re
import unicodedata
from dataclasses import dataclass

from verify import phones
from verify.errors import N_, Conflict, Invalid, NotFound
from verify.services.fields import has_control_characters, whole_number

MAX_PREFERRED = 20  # characters of "今晚7点" / "7pm" kept: a time, not a message
PER_NUMBER = (3, 86400)  # requests one number may make a day (one open at a time)
NUMBER_DIGITS = 5  # a run of this many digits is a phone number (95xxx and up), not a time (19:00-21:00 is not one)
MOBILE_DIGITS = 11  # this many digits in all spell a mobile number, however they are split up
# Chinese numerals a number can be written in (一三九..., 幺 for 1 when read out); 十 and 百 are not digits of one.
_NUMERALS = frozenset("〇零一二三四五六七八九幺两")
_MINUTES = re.compile(r"(?<=\d):\d\d(?![\d:])")  # the :00 of 19:00 (not :1234 or the :39: of 1:39:1234:5678)
CHANNELS = ("sms", "voice")
# Caller ID on the hotline can be faked at no cost, so a flood of calls could use up the day's requests
# for everybody: the hotline may take at most this share of the day; texts (from real SIMs) keep the rest.
SPOOFABLE_SHARE = {"voice": 0.5}
_DONE_FIELDS = ("session_id",)
ANSWERED = N_("This request was answered already by session %(session)s.")


def preferred_time(text):
    """The time a borrower wrote (``今晚7点``, ``7pm``), cleaned like other free text: control and
    format characters dropped, spaces collapsed, at most ``MAX_PREFERRED`` characters. Anything
    holding a phone number is dropped whole: nobody is ever called at a number given in the text."""
    text = unicodedata.normalize("NFKC", text or "")
    kept = "".join(" " if has_control_characters(ch, allowed="") else ch for ch in text)
    kept = " ".join(_marked_once(kept).split())
    if _holds_number(kept):
        return ""
    return kept[:MAX_PREFERRED].strip()


def _marked_once(text):
    # At most one combining mark on a letter (and none on nothing): a tower of them is drawn over the
    # rows above it on the agent's screen. NFKC has composed the marks a time is written with.
    kept = []
    for ch in text:
        if unicodedata.category(ch)[0] == "M" and (not kept or unicodedata.category(kept[-1])[0] in "MZ"):
            continue
        kept.append(ch)
    return "".join(kept)


def _holds_number(text):
    # A run of digits (or Chinese numerals) joined by anything but a letter or the ':' of a time
    # (spaces, dashes, dots, slashes, 。·，) is one number: 139.1234.5678 is a run of 11, 19:00-21:00 runs
    # of 2, 4 and 2. Digits split by letters (139x1234x5678) are caught by their count in all.
    run, longest = 0, 0
    total = -2 * len(_MINUTES.findall(text))  # 12月2日 19:00-21:00 is a time, its minutes no part of a number
    for ch in text:
        if ch.isdecimal() or ch in _NUMERALS:
            run, total = run + 1, total + 1
            longest = max(longest, run)
        elif ch.isalpha() or ch == ":":
            run = 0
    return longest >= NUMBER_DIGITS or total >= MOBILE_DIGITS


@dataclass(frozen=True)
class Asked:
    """The answer to a request: ``outcome`` yes, already, limited or not_mobile; ``created`` of the new
    or the open request (Unix seconds); ``line`` the number we will call from (E.164, None when the
    registry has no callback line); ``hours`` the request stays open; ``preferred`` as kept."""

    outcome: str
    created: float = 0.0
    line: str | None = None
    hours: int = 24
    preferred: str = ""


class CallbackRequestService:
    """Asking for, listing and closing callback requests; built once by the factory."""

    def __init__(self, requests, sessions, numbers, sealer, audit, hmac_key, region, ttl, per_day):
        self._requests = requests
        self._sessions = sessions
        self._numbers = numbers
        self._sealer = sealer  # the same key and library as the reporters' contacts
        self._audit = audit
        self._hmac_key = hmac_key
        self._region = region
        self.ttl = ttl
        self._per_day = (per_day, 86400)

    def line(self):
        """The number an agent calls back from by default: the registry's first active callback line."""
        return next((e["number"] for e in self._numbers.outbound() if e["purpose"] == "callback"), None)

    def ask(self, actor, phone, preferred, channel):
        """A callback request for ``phone`` (the sender's own number, a ``Phone``: a mobile of the home
        region, else ``not_mobile``), with the time it prefers as written; one open request per number,
        under the number's and the day's limits. Audited in the same script that stores it. ``Asked``."""
        if not (phone.mobile and phone.home):  # a foreign number called back could be one that bills us
            return Asked("not_mobile")
        preferred = preferred_time(preferred)
        number_hmac = phones.number_hmac(self._hmac_key, phone.e164, "callback")
        fields = {"nm": phones.mask(phone.e164), "ns": self._sealer.seal(phone.e164), "pt": preferred, "ch": channel}
        share = SPOOFABLE_SHARE.get(channel)
        channel_share = (max(1, int(self._per_day[0] * share)), self._per_day[1]) if share else None
        detail = f"{fields['nm']} by {channel}"
        asked = self._requests.ask(number_hmac, fields, self.ttl, PER_NUMBER, self._per_day, channel_share,
                                   along=lambda request_id, only_if: [
                                       self._audit.along(actor, "callback_request", request_id, detail, only_if)])
        hours = max(1, round(self.ttl / 3600))
        if asked.outcome == "limited":
            return Asked("limited", hours=hours)
        return Asked(asked.outcome, asked.created, self.line(), hours, preferred)

    def _shown(self, request, now, reveal=False):
        shown = {"id": request.id, "masked": request.masked, "preferred_time": request.preferred or None,
                 "channel": request.channel, "created": request.created, "expires": request.expires,
                 "expired": now >= request.expires, "status": request.status, "age": max(0, now - request.created)}
        if reveal:
            shown["number"] = self._sealer.open(request.number_sealed)
        return shown

    def waiting(self, args, reveal=False, max_limit=200):
        """Open requests (not done, not expired), oldest first, paged by ``args`` (cursor, limit):
        ``(requests, next cursor)``; with ``reveal``, each with its number (E.164) for the call centre.
        ``Invalid`` for a bad cursor or limit."""
        errors = []
        limit = whole_number(args, "limit", errors, 1, max_limit, 50)
        cursor = args.get("cursor") or None
        if cursor is not None and self._requests.read_cursor(cursor) is None:
            errors.append(("cursor", "is not a cursor this service gave out"))
        if errors:
            raise Invalid(errors)
        now = self._requests.now()
        found, next_cursor = self._requests.waiting(now - self.ttl, self._requests.read_cursor(cursor), limit)
        return [self._shown(r, now, reveal) for r in found], next_cursor

    def expired(self, limit=20):
        """The latest requests nobody handled in time (newest first), for the console."""
        now = self._requests.now()
        return [self._shown(r, now) for r in self._requests.expired(now - self.ttl, limit)]

    def counts(self):
        """``{"open": .., "expired": ..}``: requests waiting, and those not handled in time."""
        return self._requests.counts(self._requests.now() - self.ttl)

    def number(self, actor, request_id):
        """The borrower's number in full (a ``Phone``) for an agent about to call: asked for on purpose,
        audited. ``NotFound``."""
        request = self._requests.get(request_id)
        e164 = self._sealer.open(request.number_sealed)
        if e164 is None:
            raise NotFound("This request's number can no longer be read (the contact key changed).")
        self._audit.record(actor, "callback_number_show", request.id, request.masked)
        return phones.parse(e164, self._region)

    def borrower(self, request_id):
        """``(Request, the borrower's E.164)`` of a request still to be called; ``NotFound``, ``Conflict``
        when it was answered already."""
        request = self._requests.get(request_id)
        if request.status == "done":
            raise Conflict(ANSWERED, session=request.session_id)
        e164 = self._sealer.open(request.number_sealed)
        if e164 is None:
            raise NotFound("This request's number can no longer be read (the contact key changed).")
        return request, e164

    def close(self, actor, request_id, data):
        """The call centre's ``{"session_id"}``: close the request with the session that called the
        borrower back. ``NotFound`` (request), ``Invalid`` (no such session, another borrower's, or one
        opened before the borrower asked), ``Conflict`` (closed already by another session); closing
        again with the same session answers the same. Audited."""
        request = self._requests.get(request_id)
        errors = []
        if not isinstance(data, dict):
            raise Invalid([("body", "must be a JSON object with session_id")])
        for field in sorted(set(data) - set(_DONE_FIELDS)):
            errors.append((field, "unknown field; allowed: session_id"))
        session_id = data.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            errors.append(("session_id", "is required: the id of the session that called the borrower back"))
        if errors:
            raise Invalid(errors)
        return self.close_with(actor, request, session_id)

    def close_with(self, actor, request, session_id):
        """Close ``request`` with ``session_id`` after checking the session is this borrower's and was
        opened after they asked; see ``close``."""
        e164 = self._sealer.open(request.number_sealed)
        self._check_session(session_id, e164, request.created)
        closed = self._requests.done(request, session_id, actor.who, along=lambda only_if: [
            self._audit.along(actor, "callback_done", request.id, f"session {session_id}", only_if)])
        if closed.outcome == "unknown":
            raise NotFound()
        if closed.outcome == "before" and closed.session_id != session_id:
            raise Conflict(ANSWERED, session=closed.session_id)
        return {"id": request.id, "status": "done", "session_id": session_id, "done": closed.at}

    def _check_session(self, session_id, e164, asked_at):
        problem = [("session_id", "is not a session opened for this borrower after they asked for the call")]
        try:
            record = self._sessions.get(session_id)
        except NotFound:
            raise Invalid(problem) from None
        # A session id starts with the borrower's tag: another borrower's session never closes this one.
        if e164 is None or session_id.split("-", 1)[0] != self._sessions.tag(e164) or record.facts.created < asked_at:
            raise Invalid(problem)


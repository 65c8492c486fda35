"""The borrower's SMS channel: what a text means, and the reply.

``parse`` reads a message into a ``Command`` (pure). ``Texts.answer`` runs it against the store and
returns the reply text (None for an empty reply); ``Texts.webhook`` does that for a signed request
from Twilio and returns the TwiML.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from verify import phones, segments
from verify import verdicts as v
from verify.errors import AreaCodeNeeded, Invalid, NotSigned, StoreUnavailable
from verify.messaging import WebhookForm
from verify.registry.replies import ClaimState
from verify.registry.sessions import CONTACT_DAYS, OWN
from verify.services import advice
from verify.services.actor import Actor
from verify.services.fields import decimal_digits
from verify.services.reports import MAX_TEXT, categories_in

# Twilio's own single-word opt-out and opt-in keywords, plus the Chinese 退订 / TD.
OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "退订", "TD"}
OPT_IN = {"START", "YES", "UNSTOP", "OPTIN"}
HELP = {"帮助", "HELP", "INFO"}
STATUS = {"?", "核实", "来电", "CALL", "VERIFY"}
CHECK = ("查询", "查", "CHECK")
REPORT = ("举报", "REPORT")
CALLBACK = ("回电", "CALLBACK")  # a callback request, optionally with a time: 回电 今晚7点, CALLBACK 7pm

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
MAX_AREA_CODES = 3
_SEPARATORS = " ,，:：;；、-—–"  # between the reported number and what happened
_NUMBER_THEN_TEXT = re.compile(r"^([+(]?\d[\d\s()\-]*\d)\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Command:
    """What a text asks: kind is code, status, check, report, callback, help, opt_out, opt_in or unknown."""

    kind: str
    lang: str
    code: str = ""
    number: str = ""
    text: str = ""


def language(body, default="zh"):
    """Chinese characters -> zh, Latin letters -> en, neither (a bare code) -> ``default``."""
    if _CJK.search(body):
        return "zh"
    if _LATIN.search(body):
        return "en"
    return default


def parse(body, default_lang="zh"):
    """Read a borrower's text. Full-width characters, spaces and case do not matter; a report's own
    words are kept as written (full-width punctuation included)."""
    written = " ".join((body or "").split())
    text = unicodedata.normalize("NFKC", written)
    lang = language(text, default_lang)
    word = text.upper()
    if word in OPT_OUT:
        return Command("opt_out", lang)
    if word in OPT_IN:
        return Command("opt_in", lang)
    if word in HELP:
        return Command("help", lang)
    if word in STATUS:
        return Command("status", lang)
    command = _keyword(word, text, written, lang)
    if command is not None:
        return command
    digits = decimal_digits(text)  # a code texted in any script's digits is the code
    if len(digits) == 6 and len(text) <= 40:
        return Command("code", lang, code=digits)
    return Command("unknown", lang)


def _keyword(word, text, written, lang):
    # A keyword and what follows it: CHECK <number>, REPORT <number> <what happened>, CALLBACK [<time>].
    for kind, prefixes in (("check", CHECK), ("report", REPORT), ("callback", CALLBACK)):
        for prefix in prefixes:
            # Chinese keywords may run into the number (查02160800000); English ones need a space.
            if word.startswith(prefix) and (prefix[0] > "~" or word[len(prefix):len(prefix) + 1] in ("", " ")):
                rest = text[len(prefix):].strip()
                if kind == "check":
                    return Command(kind, lang, number=rest)
                if kind == "callback":  # the rest is a time, never a number to call (the sender's is)
                    return Command(kind, lang, text=rest)
                return _report(lang, written, len(prefix))
    return None


def _report(lang, written, start):
    # 举报 <number> <what happened>: the number read from the folded text, what happened kept as the
    # reporter wrote it (from the written character where its folded form begins). Folded one character
    # at a time here, so that a place in the folded text maps back to one in ``written``.
    written = _visible(written)  # the keyword is before any character this drops: ``start`` holds
    folded = [unicodedata.normalize("NFKC", ch) for ch in written]
    text = "".join(folded)
    tail = text[start:]
    start += len(tail) - len(tail.lstrip())
    match = _NUMBER_THEN_TEXT.match(text[start:].rstrip())
    if not match:
        return Command("report", lang, number=text[start:].strip())
    begins, at = start + match.start(2), 0
    for index, piece in enumerate(folded):
        if at >= begins:
            what = written[index:]
            break
        at += len(piece)
    else:
        what = ""
    return Command("report", lang, number=match.group(1), text=what.lstrip(_SEPARATORS).strip())


def _visible(text):
    # A scam text pasted into a report carries invisible characters put there to slip past filters
    # (zero-width spaces, joiners, bidi marks), in its words or its number: they go, other controls
    # become spaces, so the report is filed, its number read and its words read for its categories.
    # Line breaks were made spaces already.
    return "".join("" if unicodedata.category(ch) == "Cf" else " " if unicodedata.category(ch)[0] == "C" else ch
                   for ch in text)


def _area_codes(candidates, lang):
    # The area codes of the lines digits typed without one may be (021 6080 0000 -> 021): one SMS
    # holds a few codes, not a few whole numbers.
    codes = list(dict.fromkeys(line.split()[0] for line in candidates))
    shown = codes[:MAX_AREA_CODES] + ([("…" if lang == "zh" else "...")] if len(codes) > MAX_AREA_CODES else [])
    return ("、" if lang == "zh" else " or ").join(shown)


class Texts:
    """Answers texts for one app: built once in the factory with its collaborators."""

    def __init__(self, twilio, messages, sessions, checks, calls, intake, settings, callback_requests=None):
        self._twilio = twilio
        self._messages = messages
        self._sessions = sessions
        self._checks = checks
        self._calls = calls
        self._intake = intake
        self._callback_requests = callback_requests
        self._region = settings.default_region
        self._brand = settings.brand_texts
        self._hmac_key = settings.hmac_key.encode()
        self._zone = ZoneInfo(settings.timezone)
        self._lang = settings.sms_language

    def webhook(self, url, body, signature):
        """Twilio's request (the URL it called, the form body, X-Twilio-Signature) answered as TwiML;
        ``NotSigned`` unless the signature signs them."""
        form = WebhookForm.parse(body)
        if not self._twilio.signature_valid(url, form, signature):
            raise NotSigned()
        return self._twilio.reply(self.answer(form.first("MessageSid"), form.first("From"), form.first("Body", "")))

    def sign(self, url, form):
        """The signature Twilio would send (for `sms simulate`); None without an auth token."""
        return self._twilio.sign(url, form) if self._twilio.can_validate else None

    def _say(self, kind, lang, **values):
        return advice.sms(kind, lang, self._brand, **values)

    def answer(self, message_sid, sender_raw, body):
        """The reply to one inbound text (None: answer with an empty <Response/>).

        A retried or doubled delivery of the same MessageSid gets the same reply and counts once.
        Any store failure gives the `unavailable` reply: never an error, never `genuine`.
        """
        command = parse(body, self._lang)
        try:
            sender = phones.parse(sender_raw, self._region)
        except phones.InvalidNumber:
            sender = None
        try:
            if sender is None:
                return None if command.kind in ("opt_out", "opt_in") else self._say("usage", command.lang)
            return self._answer_once(message_sid, sender, command)
        except StoreUnavailable:
            return self._say("number_unavailable" if command.kind == "check" else "unavailable", command.lang)

    def _answer_once(self, message_sid, sender, command):
        messages = self._messages
        if not messages.valid_sid(message_sid):
            return self._run(sender, command)
        tag = self._sessions.tag(sender.e164)
        if command.kind == "code" and sender.mobile:
            # Claim, code check and the kept outcome in one round trip (the hot path of a campaign).
            claim = messages.claim_and_check(tag, message_sid, command.code)
        else:
            claim = messages.claim(tag, message_sid)
        if claim.state is ClaimState.CHECKED:
            return self._code_reply(claim.check, command.lang)
        if claim.state is ClaimState.DUPLICATE:
            return self._repeat(claim, tag, message_sid, command.lang)
        if claim.state is ClaimState.LIMITED and command.kind not in ("opt_out", "opt_in"):
            # One polite reply when the limit is crossed; silence after that (no SMS pumping). STOP and
            # START always count: nobody may be kept from opting out.
            reply = self._say("slow_down", command.lang) if claim.count == messages.limit + 1 else None
        else:
            reply = self._run(sender, command)
        messages.remember_reply(tag, message_sid, reply or "")
        return reply

    def _repeat(self, claim, tag, message_sid, lang):
        # The same answer as the first delivery's, made again from its kept code check or as it was sent.
        if claim.check is not None:
            return self._code_reply(claim.check, lang)
        reply = claim.reply if claim.reply is not None else self._messages.wait_for_reply(tag, message_sid)
        return reply or None

    def _run(self, sender, command):
        return getattr(self, f"_{command.kind}")(sender, command)

    # --- one method per command ---------------------------------------------------------------------
    def _code(self, sender, command):
        if not sender.mobile:
            return self._say("not_calling", command.lang)
        return self._code_reply(self._sessions.check(sender.e164, command.code, kind=OWN), command.lang)

    def _code_reply(self, checked, lang):
        answer = self._calls.answer(checked, channel="sms")
        if answer.verdict == v.GENUINE:
            return self._genuine(answer.session, lang)
        if answer.verdict == v.NOT_VERIFIED:
            return self._say("wrong_code", lang)
        return self._say(answer.verdict, lang)

    def _status(self, sender, command):
        # Call status, not verification: no code was given, so nothing is checked or counted and the
        # reply never says "verified" (a scammer may be calling at the same moment as our agent).
        status, lang = self._sessions.status(sender.e164), command.lang
        if status.wrong_codes[OWN] >= self._sessions.max_failures:
            return self._say("locked", lang)
        if status.live is not None:
            return self._say("calling_now", lang, **self._call_values(self._calls.shown(status.live), lang))
        last = status.last_contact
        if last is None:
            return self._say("not_calling_none", lang, days=CONTACT_DAYS)
        return self._say("not_calling_last", lang, when=self._when(last.at, lang),
                         caller=phones.display(last.caller, self._region))

    def _when(self, timestamp, lang):
        # A day and time in the service's zone (VERIFY_TIMEZONE), as a borrower's phone shows its calls.
        local = dt.datetime.fromtimestamp(timestamp, self._zone)
        return f"{local.month}月{local.day}日 {local:%H:%M}" if lang == "zh" else f"{local:%m-%d %H:%M}"

    def _genuine(self, session, lang):
        return self._say("genuine", lang, **self._call_values(session, lang))

    def _call_values(self, session, lang):
        # What the genuine and the calling-now replies say of a session (``CallChecks.shown``).
        started = dt.datetime.fromtimestamp(session["created"], self._zone).strftime("%H:%M")
        agent = session["agent_name"]
        # A character outside GSM-7 (Chinese, Ł, `) would turn an English SMS into UCS-2 and split it in three.
        agent = f" {agent}" if lang == "zh" or segments.is_gsm7(agent) else ""
        return {"agent_id": session["agent_id"], "agent": agent, "caller": session["caller_display"], "time": started}

    def _check(self, sender, command):
        try:
            phone = phones.parse_checked(command.number, self._region)
        except phones.InvalidNumber:
            return self._say("bad_number", command.lang)
        try:
            answer = self._checks.check(phone)
        except AreaCodeNeeded as exc:  # the digits of several of our lines within their cities: ask
            return self._say("area_code", command.lang, number=exc.typed, codes=_area_codes(exc.candidates, command.lang))
        return self._say(f"number_{answer.verdict}", command.lang, number=answer.shown, imitated=answer.imitated or "")

    def _report(self, sender, command):
        # No number, or none that can be read: how to report (not the CHECK hint).
        if not command.number:
            return self._say("report_usage", command.lang)
        text = command.text[:MAX_TEXT]
        # A text has no checkboxes: its own words give the categories the overview counts.
        data = {"number": command.number, "text": text, "channel": "call", "categories": categories_in(text)}
        if sender.mobile:
            data["reporter_phone"] = sender.e164
        try:
            reference, _when = self._intake.file(data, "sms", Actor("sms"))
        except Invalid:
            return self._say("report_usage", command.lang)
        return self._say("reported", command.lang, reference=reference)

    def _callback(self, sender, command):
        # For the sender's own number only: whatever the text holds, nobody else gets called.
        asked = self._callback_requests.ask(Actor("sms"), sender, command.text, "sms")
        lang = command.lang
        if asked.outcome in ("limited", "not_mobile"):
            return self._say(f"callback_{'limited' if asked.outcome == 'limited' else 'mobile'}", lang)
        caller = phones.display(asked.line, self._region) if asked.line else ("官方号码" if lang == "zh" else "our number")
        kind = "callback_already" if asked.outcome == "already" else "callback_asked_time" if asked.preferred else "callback_asked"
        made = dt.datetime.fromtimestamp(asked.created, self._zone).strftime("%H:%M")
        return self._say(kind, lang, caller=caller, hours=asked.hours, time=made)

    def _opt_out(self, sender, command):
        # Claimed like every other text: a replayed old START cannot undo a later STOP.
        self._messages.opt_out(phones.number_hmac(self._hmac_key, sender.e164, "optout"))

    def _opt_in(self, sender, command):
        self._messages.opt_in(phones.number_hmac(self._hmac_key, sender.e164, "optout"))

    def _help(self, sender, command):
        return self._say("help", command.lang)

    def _unknown(self, sender, command):
        return self._say("usage", command.lang)

"""The borrower's SMS channel: what a text means, and the reply.

``parse`` reads a message into a ``Command`` (pure). ``Answerer.answer`` runs it against the store
and returns the reply text (None for an empty reply). No Flask, no Redis, no Twilio here.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from verify import advice, answers, phones, reporting
from verify import verdicts as v
from verify.errors import Invalid, StoreUnavailable
from verify.registry import reports
from verify.registry.messages import OUTCOME

# Twilio's own single-word opt-out and opt-in keywords, plus the Chinese 退订 / TD.
OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "退订", "TD"}
OPT_IN = {"START", "YES", "UNSTOP", "OPTIN"}
HELP = {"帮助", "HELP", "INFO"}
STATUS = {"?", "核实", "来电", "CALL", "VERIFY"}
CHECK = ("查询", "查", "CHECK")
REPORT = ("举报", "REPORT")
NO_REPLY = "\x00"  # stored for a message answered with an empty <Response/>

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_NUMBER_THEN_TEXT = re.compile(r"^([+(]?\d[\d\s()\-]*\d)\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Command:
    """What a text asks: kind is code, status, check, report, help, opt_out, opt_in or unknown."""

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
    """Read a borrower's text. Full-width characters, spaces and case do not matter."""
    text = " ".join(unicodedata.normalize("NFKC", body or "").split())
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
    for kind, prefixes in (("check", CHECK), ("report", REPORT)):
        for prefix in prefixes:
            # Chinese keywords may run into the number (查02160800000); English ones need a space.
            if word.startswith(prefix) and (prefix[0] > "~" or word[len(prefix):len(prefix) + 1] in ("", " ")):
                rest = text[len(prefix):].strip()
                if kind == "check":
                    return Command(kind, lang, number=rest)
                match = _NUMBER_THEN_TEXT.match(rest)
                number, what = (match.group(1), match.group(2)) if match else (rest, "")
                return Command(kind, lang, number=number, text=what.strip())
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 6 and len(text) <= 40:
        return Command("code", lang, code=digits)
    return Command("unknown", lang)


class Answerer:
    """Answers texts for one app: built once in the factory with the services it needs."""

    def __init__(self, svc, hmac_key, timezone="Asia/Shanghai", default_lang="zh"):
        self.svc = svc
        self.hmac_key = hmac_key
        self.zone = ZoneInfo(timezone)
        self.default_lang = default_lang

    def _say(self, kind, lang, **values):
        return advice.sms(kind, lang, self.svc.brand, **values)

    def answer(self, message_sid, sender_raw, body):
        """The reply to one inbound text (None: answer with an empty <Response/>).

        A retried or doubled delivery of the same MessageSid gets the same reply and counts once.
        Any store failure gives the `unavailable` reply: never an error, never `genuine`.
        """
        command = parse(body, self.default_lang)
        try:
            sender = phones.parse(sender_raw, self.svc.region)
        except phones.InvalidNumber:
            sender = None
        try:
            if command.kind in ("opt_out", "opt_in"):
                if sender:
                    record = self.svc.messages.opt_out if command.kind == "opt_out" else self.svc.messages.opt_in
                    record(phones.number_hmac(self.hmac_key, sender.e164))
                return None
            if sender is None:
                return self._say("usage", command.lang)
            return self._answer_once(message_sid, sender, command)
        except StoreUnavailable:
            kind = "number_unavailable" if command.kind == "check" else "unavailable"
            return self._say(kind, command.lang)

    def _answer_once(self, message_sid, sender, command):
        messages = self.svc.messages
        if not messages.valid_sid(message_sid):
            return self._run(sender, command)
        tag = self.svc.sessions.tag(sender.e164)
        if command.kind == "code" and sender.mobile:
            # Claim, code check and the kept outcome in one round trip (the hot path of a campaign).
            outcome, value = self.svc.sessions.check_message(tag, command.code, *messages.claim_keys(tag, message_sid))
            if outcome == "checked":
                return self._code_reply(value, command.lang)
        else:
            outcome, value = messages.claim(tag, message_sid)
        if outcome == "dup":
            kept = value or messages.wait_for_reply(tag, message_sid)
            if kept and kept.startswith(OUTCOME):
                return self._code_reply(self.svc.sessions.stored_outcome(tag, kept), command.lang)
            return None if kept in (None, NO_REPLY) else kept
        if outcome == "limited":
            # One polite reply when the limit is crossed; silence after that (no SMS pumping).
            reply = self._say("slow_down", command.lang) if int(value) == messages.limit + 1 else None
        else:
            reply = self._run(sender, command)
        messages.remember_reply(tag, message_sid, NO_REPLY if reply is None else reply)
        return reply

    def _run(self, sender, command):
        return getattr(self, f"_{command.kind}")(sender, command)

    # --- one method per command ---------------------------------------------------------------------
    def _code(self, sender, command):
        if not sender.mobile:
            return self._say("not_calling", command.lang)
        return self._code_reply(self.svc.sessions.check(sender, command.code), command.lang)

    def _code_reply(self, checked, lang):
        answer = answers.call_answer(self.svc, *checked, channel="sms")
        if answer.verdict == v.GENUINE:
            return self._genuine(answer.session, lang)
        if answer.verdict == v.NOT_VERIFIED:
            return self._say("wrong_code", lang)
        return self._say(answer.verdict, lang)

    def _status(self, sender, command):
        state, details = self.svc.sessions.current(sender)
        if state == "active":
            return self._genuine(answers.shown_session(details, self.svc.region), command.lang)
        return self._say("locked" if state == "locked" else "not_calling", command.lang)

    def _genuine(self, session, lang):
        started = dt.datetime.fromtimestamp(session["created"], self.zone).strftime("%H:%M")
        agent = session["agent_name"]
        # A Chinese character would turn an English SMS into UCS-2 and split it in three.
        agent = f" {agent}" if lang == "zh" or agent.isascii() else ""
        return self._say("genuine", lang, agent_id=session["agent_id"], agent=agent,
                         caller=session["caller_display"], time=started)

    def _check(self, sender, command):
        try:
            phone = phones.parse_checked(command.number, self.svc.region)
        except phones.InvalidNumber:
            return self._say("bad_number", command.lang)
        answer = answers.for_number(self.svc, phone)
        return self._say(f"number_{answer.verdict}", command.lang, number=phone.display, imitated=answer.imitated or "")

    def _report(self, sender, command):
        data = {"number": command.number, "text": command.text[: reports.MAX_TEXT], "channel": "call"}
        if sender.mobile:
            data["reporter_phone"] = sender.e164
        try:
            reference, _when = reporting.file(self.svc, data, "sms")
        except Invalid:
            return self._say("bad_number", command.lang)
        return self._say("reported", command.lang, reference=reference)

    def _help(self, sender, command):
        return self._say("help", command.lang)

    def _unknown(self, sender, command):
        return self._say("usage", command.lang)

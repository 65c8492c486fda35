"""The voice hotline: a borrower calls the official number and Twilio posts each step of the call;
the answer is that step's TwiML. Mandarin first, 9 for English, then the menu: 1 verifies the call the
borrower is on with the code the caller gave (counted with the web and API codes: caller ID can be
faked), 2 checks a number, 3 asks for a call back (a callback request for the number calling), 0 a
person. No key or a wrong one: the prompt once more, then goodbye.

Each step is named in the URL Twilio posts to (``?step=menu&lang=zh&try=0``). Twilio signs that URL
with its query, so the next step's URL is built from the URL the signature was checked against, and
passes the same check when Twilio posts to it.
"""

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from verify import phones
from verify import verdicts as v
from verify.errors import AreaCodeNeeded, NotSigned, RateLimited, StoreUnavailable
from verify.messaging import Dial, Gather, Hangup, Say, WebhookForm
from verify.registry.replies import ClaimState
from verify.services import advice, fields
from verify.services.actor import Actor
from verify.settings import ConfigError

STEPS = ("start", "menu", "code", "number")
LANGS = ("zh", "en")
_CALL_VERDICTS = {v.GENUINE: "genuine", v.LOCKED: "locked", v.UNAVAILABLE: "unavailable"}  # else not_verified


@dataclass(frozen=True)
class Step:
    """Where a call is: the step ``name`` (start, menu, code, number), its language, how many times its
    prompt was said again already, and the webhook's URL without its query."""

    name: str
    lang: str
    tries: int
    base: str

    @classmethod
    def of(cls, url):
        """The step the webhook ``url`` names; the hotline number's own webhook (no query) starts a call."""
        query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
        name = query.get("step") if query.get("step") in STEPS else "start"
        lang = query.get("lang") if query.get("lang") in LANGS else "zh"
        return cls(name, lang, 1 if query.get("try") == "1" else 0, url.split("?", 1)[0])

    def to(self, name, lang=None, tries=0):
        """The URL of the step ``name``, where Twilio posts the keys of the next ``<Gather>``."""
        return f"{self.base}?{urlencode({'step': name, 'lang': lang or self.lang, 'try': tries})}"


class Voice:
    """Answers calls to the hotline for one app: built once in the factory with its collaborators."""

    def __init__(self, twilio, call_steps, checks, calls, settings, callback_requests=None):
        self._twilio = twilio
        self._steps = call_steps
        self._checks = checks
        self._calls = calls
        self._callback_requests = callback_requests
        self._region = settings.default_region
        self._brand = settings.brand_texts
        self._hours = settings.hotline_hours
        self._agent = _agent_number(settings.voice_agent_number, settings.default_region)

    def webhook(self, url, body, signature):
        """Twilio's request (the URL it called, the form body, X-Twilio-Signature) answered as TwiML;
        ``NotSigned`` unless the signature signs them."""
        form = WebhookForm.parse(body)
        if not self._twilio.signature_valid(url, form, signature):
            raise NotSigned()
        return self._twilio.voice(self.answer(Step.of(url), form.first("CallSid"), form.first("From"), form.first("Digits")))

    def sign(self, url, form):
        """The signature Twilio would send (for `voice simulate`); None without an auth token."""
        return self._twilio.sign(url, form) if self._twilio.can_validate else None

    def answer(self, step, call_sid, caller_raw, digits):
        """The verbs of one step of a call, for the keys ``digits`` pressed at it. A store failure is
        the ``unavailable`` warning and the end of the call: never a verified answer."""
        if not self._steps.valid_sid(call_sid):
            call_sid = "CA" + secrets.token_hex(16)  # Twilio always sends one; without, nothing is repeated
        try:
            caller = phones.parse(caller_raw, self._region)
        except phones.InvalidNumber:
            caller = None  # a hidden number ("anonymous") or none at all
        try:
            return getattr(self, f"_{step.name}")(step, call_sid, caller, (digits or "").strip())
        except StoreUnavailable:
            return self._end(step.lang, "unavailable")

    # --- one method per step ----------------------------------------------------------------------------
    def _start(self, step, call_sid, caller, digits):
        # A hidden number is not counted: one counter for every caller who hides their number would let
        # one of them refuse the hotline to all the others (and it cannot key in codes anyway).
        if caller is not None:
            claim = self._steps.claim_call(caller.e164, call_sid)
            if claim.state is ClaimState.LIMITED or claim.reply == "limited":
                return self._end(step.lang, "too_many_calls")
        return self._menu_prompt(step, step.lang, greet=True)

    def _menu(self, step, call_sid, caller, digits):
        choice = {"9": self._english, "1": self._ask_code, "2": self._ask_number, "3": self._callback,
                  "0": self._person}.get(digits[:1])
        return choice(step, caller) if choice else self._again(step, "not_understood")

    def _code(self, step, call_sid, caller, digits):
        code = fields.code({"code": digits}, [])
        if code is None:
            return self._again(step, "bad_code")
        if caller is None or not (caller.mobile and caller.home):
            return self._end(step.lang, "no_caller_id")
        try:
            answer = self._calls.verify(caller, code, channel="voice", once=(call_sid, f"code{step.tries}"))
        except RateLimited:
            return self._end(step.lang, "too_many_codes")
        return [Say(step.lang, self._verdict(answer, step.lang)), *self._goodbye(step.lang)]

    def _number(self, step, call_sid, caller, digits):
        try:
            phone = phones.parse_checked(digits, self._region)
        except phones.InvalidNumber:
            return self._again(step, "bad_number")
        try:
            answer, lang = self._checks.check(phone), step.lang
        except AreaCodeNeeded:  # the digits of several of our lines within their cities: ask again with it
            return self._again(step, "area_code")
        # Read back as keyed (0095188, not "+95 188"), in the groups it is shown in when they are the same
        # digits; one of our lines keyed in without its area code is read back in full.
        keyed = fields.decimal_digits(digits)
        number = advice.spoken(answer.shown if answer.local else phone.display
                               if fields.decimal_digits(phone.display) == keyed else keyed, lang)
        imitated = advice.spoken(answer.imitated, lang) if answer.imitated else None
        said = Say(lang, advice.voice_number(answer.verdict, lang, self._brand, number, imitated,
                                             answer.facts is not None and v.impersonated(answer.facts)))
        if answer.verdict == v.UNAVAILABLE:
            return [said, *self._goodbye(lang)]
        return self._menu_prompt(step, lang, before=(said,))  # then, for instance, 1 to check the caller's code

    # --- the menu's choices ---------------------------------------------------------------------------------
    def _english(self, step, caller):
        return self._menu_prompt(step, "en", greet=True)

    def _ask_code(self, step, caller):
        if caller is None or not (caller.mobile and caller.home):
            # Codes are checked for the phone that calls: without its number there is nothing to check.
            return self._menu_prompt(step, step.lang, before=self._said("no_caller_id", step.lang))
        return self._code_prompt(step)

    def _ask_number(self, step, caller):
        return self._number_prompt(step)

    def _callback(self, step, caller):
        # A request for the number calling. Caller ID can be faked, but the worst a spoofer gets is the
        # lender calling the real owner of the number (within that number's and the day's limits);
        # they hear nothing of the number's own requests.
        lang = step.lang
        if caller is None or not (caller.mobile and caller.home):
            return self._menu_prompt(step, lang, before=self._said("callback_mobile", lang))
        asked = self._callback_requests.ask(Actor("voice"), caller, "", "voice")
        if asked.outcome == "limited":
            return self._menu_prompt(step, lang, before=self._said("callback_limited", lang, hours=self._spoken_hours(lang)))
        # Never the hotline when the registry has no callback line: it never calls out.
        caller = advice.spoken(phones.display(asked.line, self._region), lang) if asked.line else (
            "官方号码" if lang == "zh" else "an official number")
        # An open request is answered as a new one: a spoofed caller ID must not learn that this number
        # asked, nor when (a scammer would call first "returning your request"). A text is told.
        return self._end(lang, "callback_asked", within=asked.hours, caller=caller)

    def _person(self, step, caller):
        lang = step.lang
        if self._agent is None:
            return self._menu_prompt(step, lang, before=self._said("no_person", lang, hours=self._spoken_hours(lang)))
        # The verbs after <Dial> run when the person's call ends, or when nobody answers.
        return [*self._said("connecting", lang), Dial(self._agent),
                *self._said("after_person", lang, hours=self._spoken_hours(lang)), Hangup()]

    # --- the pieces every step uses -------------------------------------------------------------------------
    def _menu_prompt(self, step, lang, tries=0, greet=False, before=()):
        prompts = [*before, *(self._said("greeting", lang) if greet else ())]
        if lang == "zh":
            prompts += self._said("english", "en")  # Mandarin first, then the way to English, in English
        prompts += self._said("menu", lang)
        return [Gather(step.to("menu", lang, tries), tuple(prompts))]

    def _code_prompt(self, step, tries=0, before=()):
        return [Gather(step.to("code", tries=tries), (*before, *self._said("ask_code", step.lang)), digits=6, timeout=10)]

    def _number_prompt(self, step, tries=0, before=()):
        # Up to the hash key: numbers have many lengths (95xxx, 400 numbers, mobiles, with 0086 ...).
        return [Gather(step.to("number", tries=tries), (*before, *self._said("ask_number", step.lang)), digits=None,
                       timeout=8)]

    def _again(self, step, sorry):
        """No key, or a wrong one: the step's prompt once more, then goodbye."""
        if step.tries:
            return self._end(step.lang, sorry)
        before = self._said(sorry, step.lang)
        if step.name == "code":
            return self._code_prompt(step, tries=1, before=before)
        if step.name == "number":
            return self._number_prompt(step, tries=1, before=before)
        return self._menu_prompt(step, step.lang, tries=1, before=before)

    def _verdict(self, answer, lang):
        if answer.verdict != v.GENUINE:
            return self._say(_CALL_VERDICTS.get(answer.verdict, "not_verified"), lang)
        session = answer.session
        initial = session["agent_name"][:1]  # the masked name: its first character
        agent = f"{initial}某"  # how a name is said without giving it away: 王某
        if lang == "en":  # an English voice cannot say a Chinese character: left out, as in English texts
            agent = f", whose name begins with {initial}" if initial.isascii() else ""
        return self._say("genuine", lang, agent=agent, agent_id=advice.spoken(session["agent_id"], lang),
                         caller=advice.spoken(session["caller_display"], lang))

    def _say(self, kind, lang, **values):
        return advice.voice(kind, lang, self._brand, **values)

    def _said(self, kind, lang, **values):
        return (Say(lang, self._say(kind, lang, **values)),)

    def _spoken_hours(self, lang):
        return advice.spoken_hours(self._hours, lang)

    def _goodbye(self, lang):
        return [*self._said("goodbye", lang), Hangup()]

    def _end(self, lang, kind, **values):
        return [*self._said(kind, lang, **values), *self._goodbye(lang)]


def _agent_number(raw, region):
    if not raw:
        return None
    try:
        return phones.normalise(raw, region).e164
    except phones.InvalidNumber as exc:
        raise ConfigError(f"VERIFY_VOICE_AGENT_NUMBER: {exc}") from None

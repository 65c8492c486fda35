"""Twilio: webhook signatures, TwiML replies (texts and the voice hotline) and outbound SMS. The only
module that imports twilio."""

import functools
import hmac
import logging
import os
from dataclasses import dataclass
from urllib.parse import parse_qs

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

log = logging.getLogger(__name__)


class SendFailed(RuntimeError):
    """Twilio did not accept the message (network, timeout, or an error answer)."""


class WebhookForm(dict):
    """A webhook's form fields as name -> list of values, with the ``getall`` twilio's validator
    looks for first (given Werkzeug's MultiDict it raises and catches an AttributeError per field)."""

    @classmethod
    def parse(cls, body):
        """Read an ``application/x-www-form-urlencoded`` body (text) as Twilio posts it.

        Straight from the body rather than through Werkzeug's form parser (README, Performance, has
        what it saves). Blank values are kept: Twilio signs them too."""
        return cls(parse_qs(body, keep_blank_values=True))

    def getall(self, name):
        """Every value of the field ``name``."""
        return self[name]

    def first(self, name, default=None):
        """The field's first value, or ``default``."""
        values = self.get(name)
        return values[0] if values else default


# What the voice hotline does, as plain values the services build and ``Twilio.voice`` turns into
# TwiML: the services never see twilio's classes.
@dataclass(frozen=True)
class Say:
    """Words said in one of verify's languages (``zh``, ``en``)."""

    lang: str
    text: str


@dataclass(frozen=True)
class Gather:
    """Keys the caller presses while ``prompts`` (``Say``s) are said, posted to ``action``: ``digits``
    keys, or (None) keys up to ``#``. Posted with no keys too when the caller presses none."""

    action: str
    prompts: tuple
    digits: int | None = 1
    timeout: int = 6


@dataclass(frozen=True)
class Dial:
    """Put the caller through to ``number``; the verbs after it run when that call ends."""

    number: str


@dataclass(frozen=True)
class Hangup:
    """End the call."""


# The <Say> language of each of verify's languages (Amazon Polly's and Google's codes).
SAY_LANGUAGES = {"zh": "cmn-CN", "en": "en-US"}


class Twilio:
    """Signature checks, TwiML and sending for one Twilio account; built once in the app factory."""

    def __init__(self, account_sid, auth_token, from_number, api_base=None, timeout=5.0, voices=None):
        self.account_sid = account_sid
        self.voices = dict(voices or {})  # language -> Twilio voice (e.g. Polly.Zhiyu-Neural)
        self.from_number = from_number
        self.api_base = api_base
        self.timeout = timeout
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._auth_token = auth_token
        self._client = None
        self._client_pid = None

    @property
    def can_validate(self):
        """False without an auth token: then no webhook request can be trusted."""
        return self._validator is not None

    @property
    def can_send(self):
        """False without credentials (development): notices go to the log instead."""
        return bool(self.account_sid and self._auth_token)

    def signature_valid(self, url, params, signature):
        """True when ``signature`` (X-Twilio-Signature) signs ``url`` and every field of ``params``
        (a ``WebhookForm``)."""
        if not self.can_validate or not signature:
            return False
        # Twilio signs the URL as configured: try it as given first (one HMAC). Only a mismatch pays
        # for the validator's full check, which also tries the URL with and without the port.
        expected = self._validator.compute_signature(url, params)
        if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return True
        return self._validator.validate(url, params, signature)

    def sign(self, url, form):
        """The signature Twilio would send for ``url`` and ``form`` (a dict): for `sms simulate`, `voice simulate` and tests."""
        return self._validator.compute_signature(url, form)

    @staticmethod
    @functools.lru_cache(maxsize=1024)
    def reply(text):
        """TwiML answering with one message, or an empty <Response/> when ``text`` is None (or empty).

        Remembered for the last 1,024 texts: most replies are one of a few texts (a wrong code, not
        calling, a number's verdict), and twilio builds an element tree for each."""
        response = MessagingResponse()
        if text:
            response.message(text)
        return str(response)

    def voice(self, verbs):
        """TwiML for one step of a call to the hotline: ``Say``, ``Gather``, ``Dial`` and ``Hangup`` in turn."""
        response = VoiceResponse()
        for verb in verbs:
            if isinstance(verb, Say):
                self._say(response, verb)
            elif isinstance(verb, Gather):
                # actionOnEmptyResult: no key pressed is posted to the action too, so one URL answers
                # both (Twilio would otherwise go on with the verbs after the <Gather>).
                ends = {"num_digits": verb.digits} if verb.digits else {"finish_on_key": "#"}
                gather = response.gather(action=verb.action, method="POST", input="dtmf", timeout=verb.timeout,
                                         action_on_empty_result=True, **ends)
                for prompt in verb.prompts:
                    self._say(gather, prompt)
            elif isinstance(verb, Dial):
                response.dial(verb.number, timeout=30)
            elif isinstance(verb, Hangup):
                response.hangup()
        return str(response)

    def _say(self, parent, say):
        voice = self.voices.get(say.lang)
        parent.say(say.text, language=SAY_LANGUAGES[say.lang], **({"voice": voice} if voice else {}))

    def _rest(self):
        # One client per process: its HTTP session must not be shared across a fork.
        if self._client is None or self._client_pid != os.getpid():
            client = Client(self.account_sid, self._auth_token, http_client=TwilioHttpClient(timeout=self.timeout))
            if self.api_base:
                client.api.base_url = self.api_base  # a stand-in for Twilio's REST API (tests, staging)
            self._client, self._client_pid = client, os.getpid()
        return self._client

    def send(self, to, body):
        """Send one SMS from the official number; return Twilio's message sid or raise ``SendFailed``."""
        try:
            message = self._rest().messages.create(to=to, from_=self.from_number, body=body)
        except (TwilioException, OSError) as exc:
            raise SendFailed(exc.__class__.__name__) from exc
        return message.sid

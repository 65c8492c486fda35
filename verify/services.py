"""The objects views work with, built once in the app factory and found through ``services()``."""

from dataclasses import dataclass
from typing import Any

from flask import current_app

from verify.registry.sessions import Sessions
from verify.registry.store import Store


@dataclass
class Services:
    """Everything a request needs that outlives it: the store, sessions, and settings in handy form."""

    store: Store
    sessions: Sessions
    region: str
    brand: dict  # brand, brand_en, hotline, sms: the values advice texts are filled with
    reported_threshold: int
    session_ttl: int
    session_ttl_max: int
    messages: Any = None  # registry.messages.Messages
    twilio: Any = None  # messaging.Twilio
    answerer: Any = None  # sms.Answerer
    notifier: Any = None  # notices.Notifier
    public_url: str | None = None
    hmac_key: bytes = b""
    report_limits: tuple = ()  # [(amount, seconds)] per client IP for POST /api/v1/reports
    registry: Any = None  # registry.numbers.RegistryCache: this process's copy of the number index


def services():
    """The running app's ``Services``."""
    return current_app.extensions["verify"]

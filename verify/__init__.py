"""verify: tells a borrower whether the caller who says "I am calling from your lender" really is."""

import json
import logging
import os
import secrets

from flask import Flask

from verify import config
from verify.registry import store as store_module
from verify.messaging import Twilio
from verify.notices import Notifier
from verify.registry.messages import Messages
from verify.registry.numbers import RegistryCache
from verify.registry.sessions import Sessions
from verify.services import Services
from verify.sms import Answerer

log = logging.getLogger(__name__)


def create_app(test_config=None):
    """Build the app: settings (defaults, environment, ``test_config``), store, blueprints, CLI."""
    settings = config.load(os.environ, test_config)
    app = Flask(__name__, instance_path=settings["VERIFY_INSTANCE_PATH"] or None, instance_relative_config=True)
    app.config.update(settings)
    logging.basicConfig(level=settings["VERIFY_LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.makedirs(app.instance_path, exist_ok=True)

    production = settings["VERIFY_ENV"] == "production"
    secret_key, hmac_key = _secrets(app.instance_path, settings, production)
    app.config["SECRET_KEY"] = secret_key
    app.config["MAX_CONTENT_LENGTH"] = settings["VERIFY_MAX_BODY_BYTES"]
    app.json.ensure_ascii = False  # Chinese advice stays readable in API answers
    app.json.sort_keys = False

    app.extensions["verify"] = _build_services(app, settings, hmac_key, production)
    if settings["VERIFY_PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings["VERIFY_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    from verify import forms, headers, i18n, limits, logins

    app.extensions["verify"].report_limits = tuple(limits.windows(settings["VERIFY_RATE_REPORT"]))
    from verify.routes import api, dashboard, health, problems, sms, web

    i18n.init_app(app)
    forms.init_app(app)
    headers.init_app(app)
    problems.register(app, page=web.error_page)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(sms.bp)
    web.register(app)
    dashboard.register(app)
    logins.init_app(app, production)
    forms.exempt(api.bp)  # key-authenticated
    forms.exempt(sms.bp)  # signed by Twilio
    limits.init_app(
        app,
        limits.storage_uri(settings["REDIS_URL"], app.extensions["verify"].store.socket_path),
        settings["VERIFY_REDIS_PREFIX"],
        settings["VERIFY_REDIS_TIMEOUT"],
        {
            "web.check": settings["VERIFY_RATE_CHECK"],
            "web.verify_call": settings["VERIFY_RATE_VERIFY"],
            "web.file_report": settings["VERIFY_RATE_REPORT"],
        },
    )

    from verify import cli

    cli.register(app)
    return app


def _secrets(instance_path, settings, production):
    """The Flask secret key and the HMAC key: from settings, or (development) kept in the instance folder."""
    secret_key, hmac_key = settings["VERIFY_SECRET_KEY"], settings["VERIFY_HMAC_KEY"]
    if secret_key and hmac_key:
        return secret_key, hmac_key.encode()
    if production:
        raise config.ConfigError("production needs VERIFY_SECRET_KEY and VERIFY_HMAC_KEY")
    path = os.path.join(instance_path, "dev-secrets.json")
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
    except FileNotFoundError:
        # Kept on disk so stored HMACs still match after a restart of `make run`.
        stored = {"secret_key": secrets.token_hex(32), "hmac_key": secrets.token_hex(32)}
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
            json.dump(stored, handle)
    return secret_key or stored["secret_key"], (hmac_key or stored["hmac_key"]).encode()


def _build_services(app, settings, hmac_key, production):
    timeout = settings["VERIFY_REDIS_TIMEOUT"]
    socket_path = None
    if settings["REDIS_URL"]:
        client = store_module.connect(url=settings["REDIS_URL"], timeout=timeout)
    else:
        socket_path = store_module.embedded_socket(os.path.join(app.instance_path, "redis"))
        client = store_module.connect(socket_path=socket_path, timeout=timeout)
    store_module.check_durability(client, production, settings["VERIFY_ALLOW_UNSAFE_REDIS"])
    store = store_module.Store(client, settings["VERIFY_REDIS_PREFIX"], socket_path)
    svc = Services(
        store=store,
        sessions=Sessions(store, hmac_key, settings["VERIFY_MAX_FAILURES"], settings["VERIFY_LOCKOUT_SECONDS"]),
        region=settings["VERIFY_DEFAULT_REGION"],
        brand={
            "brand": settings["VERIFY_BRAND"],
            "brand_en": settings["VERIFY_BRAND_EN"],
            "hotline": settings["VERIFY_HOTLINE"],
            "sms": settings["VERIFY_SMS_NUMBER"],
        },
        reported_threshold=settings["VERIFY_REPORTED_THRESHOLD"],
        session_ttl=settings["VERIFY_SESSION_TTL"],
        session_ttl_max=settings["VERIFY_SESSION_TTL_MAX"],
        public_url=(settings["VERIFY_PUBLIC_URL"] or "").rstrip("/") or None,
        hmac_key=hmac_key,
    )
    svc.registry = RegistryCache()
    svc.messages = Messages(store, settings["VERIFY_SMS_RATE_LIMIT"], settings["VERIFY_SMS_RATE_WINDOW"])
    svc.twilio = Twilio(
        settings["TWILIO_ACCOUNT_SID"],
        settings["TWILIO_AUTH_TOKEN"],
        settings["VERIFY_SMS_NUMBER"],
        api_base=settings["VERIFY_TWILIO_API_BASE"],
        timeout=settings["VERIFY_NOTICE_TIMEOUT"],
    )
    if not svc.twilio.can_validate:
        log.warning("TWILIO_AUTH_TOKEN is not set: /sms/inbound refuses every request (403)")
    svc.answerer = Answerer(svc, hmac_key, settings["VERIFY_TIMEZONE"], settings["VERIFY_SMS_LANGUAGE"])
    svc.notifier = Notifier(svc, svc.twilio, hmac_key, settings["VERIFY_SMS_LANGUAGE"])
    return svc

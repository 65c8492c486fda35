"""The app factory: settings, the store, the services container, Flask's extensions, blueprints."""

import json
import logging
import os
import secrets

from flask import Flask

from verify import settings as settings_module
from verify.messaging import Twilio
from verify.registry import store as store_module
from verify.registry.apikeys import ApiKeys
from verify.registry.audit import AuditLog
from verify.registry.callback_requests import CallbackRequests
from verify.registry.limits import Limits
from verify.registry.messages import Messages
from verify.registry.numbers import Numbers
from verify.registry.reports import Reports
from verify.registry.sessions import Sessions
from verify.registry.staff import Staff
from verify.registry.voice import CallSteps
from verify.services import Services
from verify.services.audit import Audit
from verify.services.callback_requests import CallbackRequestService
from verify.services.callbacks import Callbacks, Notices
from verify.services.calls import CallChecks
from verify.services.checks import NumberChecks
from verify.services.console import AgentConsole
from verify.services.health import Health
from verify.services.keys import ApiKeyService
from verify.services.limits import API_CHECK, API_VERIFY, PAGE_CHECK, PAGE_VERIFY, ClientLimits, windows
from verify.services.numbers import NumberRegistry
from verify.services.reports import ReportIntake
from verify.services.retention import Retention
from verify.services.review import Review
from verify.services.sealing import Sealer
from verify.services.staff import StaffAccounts
from verify.services.texts import Texts
from verify.services.voice import Voice


def create_app(test_config=None):
    """Build the app: settings (defaults, environment, ``test_config``), store, services, blueprints, CLI."""
    settings = settings_module.load(os.environ, test_config)
    app = Flask("verify", instance_path=settings.instance_path or None, instance_relative_config=True)
    app.config.update({k: v for k, v in (test_config or {}).items() if k not in settings_module.FIELDS})
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.makedirs(app.instance_path, exist_ok=True)
    settings = _with_secrets(app.instance_path, settings)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["verify"] = build_services(settings, _store(app.instance_path, settings))
    if settings.proxy_count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    from verify.routes import register

    register(app, settings)
    return app


def _with_secrets(instance_path, settings):
    """The settings with the Flask secret key and the HMAC key: as given, or (development) kept in the
    instance folder so stored HMACs still match after a restart of `make run`."""
    if settings.production:
        _check_production_secrets(settings)
    if settings.secret_key and settings.hmac_key:
        return settings
    path = os.path.join(instance_path, "dev-secrets.json")
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
    except FileNotFoundError:
        stored = {"secret_key": secrets.token_hex(32), "hmac_key": secrets.token_hex(32)}
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
            json.dump(stored, handle)
    return settings_module.replace(settings, secret_key=settings.secret_key or stored["secret_key"],
                                   hmac_key=settings.hmac_key or stored["hmac_key"])


def _check_production_secrets(settings):
    secret_key, hmac_key = settings.secret_key or "", settings.hmac_key or ""
    if not (secret_key and hmac_key):
        raise settings_module.ConfigError("production needs VERIFY_SECRET_KEY and VERIFY_HMAC_KEY")
    if min(len(secret_key.encode()), len(hmac_key.encode())) < 32 or secret_key == hmac_key:
        raise settings_module.ConfigError("VERIFY_SECRET_KEY and VERIFY_HMAC_KEY must be different, each at least "
                                          "32 bytes (e.g. python -c 'import secrets; print(secrets.token_hex(32))')")


def _store(instance_path, settings):
    refuse_unsafe = settings.production and not settings.allow_unsafe_redis
    if settings.redis_url:
        try:
            client = store_module.connect(url=settings.redis_url, timeout=settings.redis_timeout)
        except ValueError as exc:
            raise settings_module.ConfigError(str(exc)) from None
    else:
        socket_path = store_module.embedded_socket(os.path.join(instance_path, "redis"))
        client = store_module.connect(socket_path=socket_path, timeout=settings.redis_timeout)
    store = store_module.Store(client, settings.redis_prefix, script_flags=bool(settings.redis_url),
                               refuse_unsafe=refuse_unsafe, timeout=settings.redis_timeout)
    store.gate.check()  # closed (answers unavailable) until Redis answers with safe settings
    return store


def build_services(settings, store):
    """Every service with its collaborators, made once: the container the routes use."""
    hmac_key, region, brand = settings.hmac_key.encode(), settings.default_region, settings.brand_texts
    limits = Limits(store, hmac_key)
    sessions = Sessions(store, limits, hmac_key, settings.max_failures, settings.lockout_seconds)
    messages = Messages(store, sessions, settings.sms_rate_limit, settings.sms_rate_window)
    numbers = Numbers(store, region)
    reports = Reports(store, numbers, limits)
    audit_log = AuditLog(store)
    audit = Audit(audit_log, hmac_key)
    twilio = Twilio(settings.twilio_account_sid, settings.twilio_auth_token, settings.sms_number,
                    api_base=settings.twilio_api_base, timeout=settings.notice_timeout,
                    voices={"zh": settings.voice_zh, "en": settings.voice_en})
    client_limits = ClientLimits(limits, {
        PAGE_CHECK: windows(settings.rate_check), PAGE_VERIFY: windows(settings.rate_verify),
        API_CHECK: windows(settings.rate_api_check), API_VERIFY: windows(settings.rate_api_verify)},
        network_wide=(API_CHECK, API_VERIFY))
    checks = NumberChecks(numbers, reports, client_limits, region, brand, settings.reported_threshold)
    call_steps = CallSteps(sessions, settings.voice_call_limit, settings.voice_code_limit, settings.voice_rate_window)
    calls = CallChecks(sessions, client_limits, region, brand, call_steps, numbers)
    contacts = Sealer((settings.contact_key or settings.hmac_key).encode(), purpose=b"contact")
    intake = ReportIntake(reports, numbers, limits, hmac_key, region, windows(settings.rate_report), contacts)
    notices = Notices(messages, sessions, twilio, hmac_key, region, brand, settings.sms_language)
    callbacks = Callbacks(sessions, numbers, notices, audit, Sealer(hmac_key), hmac_key, region, settings.session_ttl,
                          settings.session_ttl_max)
    registry = NumberRegistry(numbers, audit, region)
    callback_requests = CallbackRequestService(CallbackRequests(store, limits), sessions, registry, contacts, audit,
                                               hmac_key, region, settings.callback_ttl, settings.callback_daily_limit)
    staff = StaffAccounts(Staff(store), limits, audit, settings.staff_idle_minutes * 60, settings.staff_max_hours * 3600)
    return Services(
        settings=settings, store=store, audit=audit, checks=checks, calls=calls, callbacks=callbacks,
        callback_requests=callback_requests, console=AgentConsole(callbacks, staff, registry, region, callback_requests),
        texts=Texts(twilio, messages, sessions, checks, calls, intake, settings, callback_requests),
        voice=Voice(twilio, call_steps, checks, calls, settings, callback_requests),
        intake=intake, numbers=registry, staff=staff, keys=ApiKeyService(ApiKeys(store), audit),
        review=Review(reports, numbers, audit, region, settings.timezone, contacts, callback_requests, staff=staff),
        client_limits=client_limits,
        health=Health(store, settings.allow_unsafe_redis),
        retention=Retention(reports, audit_log, audit, settings.report_retention_days, settings.audit_retention_days),
    )

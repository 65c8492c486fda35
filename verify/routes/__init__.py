"""The routes: HTTP, SMS, voice and CLI glue, one blueprint per audience (api, sms, voice, web, dashboard, health),
and the Flask adapters they use (forms, i18n, logins, headers, metrics). A view reads its input,
calls one service operation and shapes the answer; each blueprint answers errors in its own form."""

import logging

from flask import current_app, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
NO_TWILIO_TOKEN = "TWILIO_AUTH_TOKEN is not set: /sms/inbound and /voice/inbound refuse every request (403)"


def services():
    """The running app's ``Services`` (the container the factory built)."""
    return current_app.extensions["verify"]


def register(app, settings):
    """Attach the extensions, blueprints, error handlers and commands to ``app``."""
    from verify.routes import api, cli, dashboard, forms, headers, health, i18n, logins, pages, problems, sms, voice, web

    app.json.ensure_ascii = False  # Chinese advice stays readable in API answers
    app.json.sort_keys = False
    i18n.init_app(app)
    forms.init_app(app)
    headers.init_app(app, settings.production)
    logins.init_app(app, settings)
    for blueprint in (health.bp, api.bp, sms.bp, voice.bp, web.bp, dashboard.bp):
        app.register_blueprint(blueprint)
    forms.exempt(api.bp)  # key-authenticated
    forms.exempt(sms.bp)  # signed by Twilio
    forms.exempt(voice.bp)  # signed by Twilio
    web.init_app(app)

    def unrouted(exc):
        # No blueprint matched the address: answer in the form of the one whose prefix it has (staff
        # who mistype a dashboard address stay in the dashboard).
        if request.path.startswith(api.bp.url_prefix + "/"):
            return (problems.on_http_error if isinstance(exc, HTTPException) else problems.on_error)(exc)
        page = pages.staff_error_page if request.path.startswith(dashboard.bp.url_prefix + "/") else pages.error_page
        return (pages.on_http_error if isinstance(exc, HTTPException) else pages.on_error)(exc, page=page)

    app.register_error_handler(Exception, unrouted)
    cli.register(app)
    if not settings.twilio_auth_token:
        _warn_when_serving(app)


def _warn_when_serving(app):
    """Say once, at the first request this process serves, that the webhooks refuse everything. The app
    is also made for every CLI command, most of which have nothing to do with SMS: they stay quiet (the
    sms and voice commands refuse with the same advice)."""
    warned = []

    @app.before_request
    def warn_once():
        if not warned:
            warned.append(True)
            log.warning(NO_TWILIO_TOKEN)

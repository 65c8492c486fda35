"""Errors on the web pages and the dashboard: a friendly page in the page's language, never a
traceback. Also the fallback for requests that matched no blueprint (an unknown address)."""

import logging

from flask import render_template, request
from werkzeug.exceptions import HTTPException

from verify.errors import DomainError, Invalid, NotFound, NotSigned, RateLimited, StoreUnavailable
from verify.routes.i18n import _
from verify.services.health import is_store_failure

log = logging.getLogger(__name__)


def error_page(status, headers=None):
    """The error page for ``status`` (400, 403, 404, 405, 413, 429, 500, 503), in the page's language."""
    texts = {
        400: (_("We could not read that"), _("Something in the request was not right. Please go back and try again.")),
        403: (_("Not allowed"), _("This page cannot be used this way. If you were filling in a form, go back, reload it and try again.")),
        404: (_("Page not found"), _("There is nothing at this address.")),
        405: (_("Not allowed"), _("This page cannot be used this way.")),
        413: (_("Too much text"), _("What you sent is too long. Please shorten it and try again.")),
        429: (_("Please slow down"), _("You have tried this too often. Please wait a few minutes and try again.")),
        500: (_("Something went wrong on our side"), _("Please try again in a moment.")),
        503: (_("We cannot check right now"), _("Our service is not available at the moment. Please try again later.")),
    }
    title, message = texts.get(status, texts[500])
    return render_template("error.html", title=title, message=message), status, headers or {}


def on_domain_error(exc):
    """The page for a domain exception a view did not handle itself."""
    if isinstance(exc, RateLimited):
        return error_page(429, {"Retry-After": str(exc.retry_after)})
    status = {NotFound: 404, StoreUnavailable: 503, NotSigned: 403, Invalid: 400}.get(type(exc), 400)
    return error_page(status)


def on_http_error(exc):
    """The page for an HTTP error Werkzeug raised."""
    return error_page(exc.code)


def on_error(exc):
    """Anything else: 503 for a store error that escaped the services, else 500, logged."""
    if is_store_failure(exc):
        log.warning("store unavailable on %s %s: %s", request.method, request.path, exc.__class__.__name__)
        return error_page(503)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_page(500)


def register(blueprint):
    """Answer every error of ``blueprint`` (or of the app, for unmatched addresses) with a page."""
    blueprint.register_error_handler(DomainError, on_domain_error)
    blueprint.register_error_handler(HTTPException, on_http_error)
    blueprint.register_error_handler(Exception, on_error)

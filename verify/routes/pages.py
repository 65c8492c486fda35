"""Errors on the web pages and the dashboard: a friendly page in the page's language, never a
traceback; the dashboard's inside its own layout. Also the fallback for requests that matched no
blueprint (an unknown address)."""

import functools
import logging

from flask import render_template, request
from werkzeug.exceptions import HTTPException

from verify import verdicts as v
from verify.errors import DomainError, Invalid, NotFound, NotSigned, RateLimited, StoreUnavailable
from verify.routes.i18n import _, _l, current_language
from verify.services import advice
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
        503: (advice.headline(v.UNAVAILABLE, current_language()),
              _("Our service is not available at the moment. Please try again later.")),
    }
    title, message = texts.get(status, texts[500])
    # A store failure is the borrower's "unavailable" answer: the same headline, saying what to do.
    verdict = v.UNAVAILABLE if status == 503 else None
    return render_template("error.html", title=title, message=message, verdict=verdict), status, headers or {}


# The dashboard's own error pages: for staff, in the dashboard's layout and the page's language, with
# what to do next in the dashboard; never the borrower's advice to hang up.
STAFF_TEXTS = {
    400: (_l("We could not read that"), _l("Something in the request was not right (a form left open too long loses "
                                           "its token). Go back, reload the page and try again.")),
    403: (_l("Not for your role"), _l("Your role cannot use this page.")),
    404: (_l("Not found"), _l("There is nothing at this address.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way.")),
    413: (_l("Too much text"), _l("What you sent is too long.")),
    429: (_l("Please slow down"), _l("Too many requests. Wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("The error is in the server's log. Try again in a moment.")),
    503: (_l("The store is not answering"), _l("Redis does not answer right now (/readyz says why). Try again in a moment.")),
}


def staff_error_page(status, headers=None, message=None):
    """The dashboard's page for ``status``, inside the dashboard layout; ``message`` replaces the usual
    words (e.g. which roles a page is for). Server errors leave out the menu: knowing who is logged in
    needs the store."""
    title, usual = STAFF_TEXTS.get(status, STAFF_TEXTS[500])
    # server_error: the layout leaves out the menu, which would ask the store who is logged in
    html = render_template("dashboard/error.html", title=title, message=message or usual, status=status,
                           server_error=status >= 500)
    return html, status, headers or {}


def on_domain_error(exc, page=error_page):
    """The page for a domain exception a view did not handle itself."""
    if isinstance(exc, RateLimited):
        return page(429, {"Retry-After": str(exc.retry_after)})
    status = {NotFound: 404, StoreUnavailable: 503, NotSigned: 403, Invalid: 400}.get(type(exc), 400)
    return page(status)


def on_http_error(exc, page=error_page):
    """The page for an HTTP error Werkzeug raised (its description, when a view gave one of its own,
    on the dashboard's pages)."""
    custom = exc.description if exc.description != type(exc).description else None
    return page(exc.code) if page is error_page else page(exc.code, message=custom)


def on_error(exc, page=error_page):
    """Anything else: 503 for a store error that escaped the services, else 500, logged."""
    if is_store_failure(exc):
        log.warning("store unavailable on %s %s: %s", request.method, request.path, exc.__class__.__name__)
        return page(503)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return page(500)


def register(blueprint, staff=False):
    """Answer every error of ``blueprint`` (or of the app, for unmatched addresses) with a page: the
    borrower's, or with ``staff`` the dashboard's."""
    page = staff_error_page if staff else error_page
    blueprint.register_error_handler(DomainError, functools.partial(on_domain_error, page=page))
    blueprint.register_error_handler(HTTPException, functools.partial(on_http_error, page=page))
    blueprint.register_error_handler(Exception, functools.partial(on_error, page=page))

"""Errors on the API as RFC 9457 problem details (``application/problem+json``), and the JSON body
reader. Every error an API client can cause comes back as a problem with a message a person
understands; no input produces a 500 or a stack trace."""

import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from verify.errors import Conflict, DomainError, Invalid, NotFound, RateLimited, StoreUnavailable
from verify.services.health import is_store_failure

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"
MAX_DEPTH = 32
RETRY_AFTER_UNAVAILABLE = 5

_DETAILS = {
    400: "The request could not be read.",
    401: "This needs an API key: send 'Authorization: Bearer <key>'.",
    403: "Your API key is not allowed to do this.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request body is too large.",
    415: "Send the body as JSON with 'Content-Type: application/json'.",
    429: "Too many requests from your address. Please wait a little and try again.",
    500: "Something went wrong on our side. Nothing you sent was lost; please try again.",
}


class Problem(Exception):
    """Raise in a view to answer with a problem; extra keyword members are added to the body."""

    def __init__(self, status, detail, title=None, type_="about:blank", headers=None, **members):
        super().__init__(detail)
        self.status, self.detail, self.title, self.type = status, detail, title, type_
        self.headers = headers or {}
        self.members = members


def problem_response(status, detail, title=None, type_="about:blank", headers=None, **members):
    """Build a problem+json response."""
    body = {"type": type_, "title": title or HTTP_STATUS_CODES.get(status, "Error"), "status": status, "detail": detail}
    body.update(members)
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_problem(errors):
    """422 with one entry per field problem."""
    return problem_response(
        422,
        "Some fields are missing or wrong: " + "; ".join(f"{f}: {m}" for f, m in errors),
        title="Invalid request",
        type_="urn:verify:problem:validation",
        errors=[{"field": field, "message": message} for field, message in errors],
    )


def unavailable_problem(**members):
    """503: the store failed, so nothing can be confirmed. Clients should hang up and call the hotline."""
    return problem_response(
        503,
        StoreUnavailable.message,
        title="Service unavailable",
        type_="urn:verify:problem:unavailable",
        headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
        **members,
    )


def json_body():
    """The request's JSON object, or a ``Problem`` (415 wrong type, 400 unreadable, 400 not an object)."""
    if not request.is_json:
        raise Problem(415, _DETAILS[415])
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser goes
        raise Problem(400, TOO_DEEP) from None
    if data is None:
        raise Problem(400, "The body is not valid JSON.")
    if not isinstance(data, dict):
        raise Problem(400, "The body must be a JSON object.")
    strings = _strings(data)
    if strings is None:
        raise Problem(400, TOO_DEEP)
    if not all(_encodable(text) for text in strings):
        raise Problem(400, "The body contains characters that are not valid text (lone surrogates).")
    return data


TOO_DEEP = f"The body is nested too deeply (at most {MAX_DEPTH} levels of objects and lists)."


def _strings(data):
    # Every key and string of ``data``, walked without recursion; None when it nests past MAX_DEPTH.
    found, pending = [], [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return None
        if isinstance(value, dict):
            found += value.keys()
            pending += [(item, depth + 1) for item in value.values()]
        elif isinstance(value, list):
            pending += [(item, depth + 1) for item in value]
        elif isinstance(value, str):
            found.append(value)
    return found


def _encodable(text):
    # JSON may escape lone surrogates (\ud800) that no UTF-8 store can hold: refuse them up front.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def on_domain_error(exc):
    """The problem for a domain exception, with its own message."""
    if isinstance(exc, Invalid):
        return validation_problem(exc.errors)
    if isinstance(exc, StoreUnavailable):
        return unavailable_problem()
    if isinstance(exc, RateLimited):
        return problem_response(429, exc.message, headers={"Retry-After": str(exc.retry_after)})
    status = {NotFound: 404, Conflict: 409}.get(type(exc), 400)
    return problem_response(status, exc.message, title="Conflict" if status == 409 else None)


def on_http_error(exc):
    """The problem for an HTTP error Werkzeug raised (404, 405 with Allow, 413, ...)."""
    headers = {"Allow": ", ".join(exc.valid_methods)} if exc.code == 405 and getattr(exc, "valid_methods", None) else {}
    return problem_response(exc.code, _DETAILS.get(exc.code, exc.description), headers=headers)


def on_error(exc):
    """Anything else: 503 for a store error that escaped the services, else 500, logged, no traceback out."""
    if is_store_failure(exc):
        log.warning("store unavailable on %s %s: %s", request.method, request.path, exc.__class__.__name__)
        return unavailable_problem()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(500, _DETAILS[500])


def register(blueprint):
    """Answer every error of ``blueprint`` with a problem."""
    blueprint.register_error_handler(Problem, lambda exc: problem_response(
        exc.status, exc.detail, exc.title, exc.type, exc.headers, **exc.members))
    blueprint.register_error_handler(DomainError, on_domain_error)
    blueprint.register_error_handler(HTTPException, on_http_error)
    blueprint.register_error_handler(Exception, on_error)

"""The JSON API: public number check, call verification and reports; call-centre sessions; the
report queue and the registry for staff tools. Errors are problem details (routes/problems.py)."""

import functools
import json
from importlib import resources

from flask import Blueprint, g, jsonify, request, url_for

from verify import times
from verify import verdicts as v
from verify.routes import problems, services
from verify.routes.problems import Problem, json_body, problem_response, unavailable_problem
from verify.services.actor import Actor
from verify.services.review import read_filters

bp = Blueprint("api", __name__, url_prefix="/api/v1")
problems.register(bp)
FEED_MAX_AGE = 300  # seconds a carrier or a cache may keep the inbound-only list
LOCKED = ("Too many wrong codes were typed for this phone number. Text the code from your own phone to the "
          "official SMS number, or hang up and call the official hotline yourself.")


def require_key(scope):
    """Allow the view only with a valid API key of ``scope`` (401 without or with a bad key, 403 wrong scope)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            challenge = {"WWW-Authenticate": 'Bearer realm="verify"'}
            if scheme.lower() != "bearer" or not token.strip():
                raise Problem(401, "This needs an API key: send 'Authorization: Bearer <key>'.", headers=challenge)
            key = services().keys.authenticate(token.strip())
            if key is None:
                raise Problem(401, "This API key is not valid or has been revoked.", headers=challenge)
            if key["scope"] != scope:
                raise Problem(403, f"This API key has scope '{key['scope']}'; this needs scope '{scope}'.")
            g.actor = Actor(f"key:{key['name']}", request.remote_addr or "")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _created(body, location=None):
    response = jsonify(body)
    response.status_code = 201
    if location:
        response.headers["Location"] = location
    return response


# --- public: number check, call verification, reports ---------------------------------------------
@bp.get("/check")
def check():
    """Is this number one of ours, imitating ours, or reported? Public."""
    checks = services().checks
    answer = checks.check(checks.read(request.args), client_ip=request.remote_addr or "")
    if answer.verdict == v.UNAVAILABLE:
        return unavailable_problem(verdict=answer.verdict, advice=answer.advice)
    return jsonify(_number_body(answer))


def _number_body(answer):
    facts, phone = answer.facts, answer.phone
    body = {"number": phone.e164, "display": answer.shown, "verdict": answer.verdict,
            "label": facts.entry["labels"] if facts.entry else None, "advice": answer.advice,
            "reports_30d": facts.reporters_30d}
    if answer.verdict == v.LOOKALIKE:
        body["imitates"] = {"number": facts.imitated["number"], "display": answer.imitated, "label": facts.imitated["labels"]}
    return body


@bp.post("/verify")
def verify_call():
    """Did the lender really call me? The borrower's own number and the code the caller gave. Public."""
    calls = services().calls
    answer = calls.verify(*calls.read(json_body()), channel="api", client_ip=request.remote_addr or "")
    if answer.verdict == v.UNAVAILABLE:
        return unavailable_problem(verdict=answer.verdict, advice=answer.advice)
    if answer.verdict == v.LOCKED:
        return problem_response(429, LOCKED, title="Too many wrong codes", type_="urn:verify:problem:locked",
                                headers={"Retry-After": str(answer.retry_after)}, verdict=answer.verdict, advice=answer.advice)
    return jsonify(_call_body(answer))


def _call_body(answer):
    body = {"verdict": answer.verdict, "advice": answer.advice}
    if answer.session:
        shown = dict(answer.session)
        shown["started_at"], shown["expires_at"] = times.iso(shown.pop("created")), times.iso(shown.pop("expires"))
        body["session"] = shown
    return body


@bp.post("/reports")
def file_report():
    """Report a scam call or SMS. Public, limited per client IP in the same Lua call as the write."""
    actor = Actor("public", request.remote_addr or "")
    report_id, now = services().intake.file(json_body(), "api", actor, limited=True,
                                            idempotency_key=request.headers.get("Idempotency-Key"))
    return _created({"id": report_id, "received_at": times.iso(now)})


# --- call centre: sessions ------------------------------------------------------------------------
@bp.post("/sessions")
@require_key("sessions")
def open_session():
    """Open a callback session before dialling; answers the code the agent reads to the borrower."""
    callbacks, body = services().callbacks, json_body()
    opened, notice = callbacks.open(g.actor, *callbacks.read(body), request=body,
                                    idempotency_key=request.headers.get("Idempotency-Key"))
    body = {"id": opened.id, "code": opened.code, "created_at": times.iso(opened.created),
            "expires_at": times.iso(opened.expires), **({"notice": notice} if notice else {})}
    response = _created(body, url_for("api.get_session", session_id=opened.id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessions/<session_id>")
@require_key("sessions")
def get_session(session_id):
    """A session's state and how many checks succeeded or failed."""
    session = services().callbacks.state(session_id)
    for field in ("created", "expires", "ended"):
        moment = session.pop(field)
        session[f"{field}_at"] = times.iso(moment) if moment is not None else None
    return jsonify(session)


@bp.delete("/sessions/<session_id>")
@require_key("sessions")
def end_session(session_id):
    """End a session after the call: its code stops working at once."""
    services().callbacks.end(g.actor, session_id)
    return "", 204


# --- call centre: the borrowers' callback requests --------------------------------------------------
@bp.get("/callbacks")
@require_key("sessions")
def list_callback_requests():
    """Callback requests waiting (not done, not expired), oldest first, with the borrower's number."""
    found, cursor = services().callback_requests.waiting(request.args, reveal=True)
    response = jsonify({"callbacks": [_callback_request(r) for r in found], "next_cursor": cursor})
    response.headers["Cache-Control"] = "no-store"
    return response


def _callback_request(shown):
    return {"id": shown["id"], "number": shown["number"], "preferred_time": shown["preferred_time"],
            "channel": shown["channel"], "created_at": times.iso(shown["created"]), "expires_at": times.iso(shown["expires"])}


@bp.post("/callbacks/<request_id>/done")
@require_key("sessions")
def close_callback_request(request_id):
    """Close a callback request with the session that called the borrower back."""
    closed = services().callback_requests.close(g.actor, request_id, json_body())
    return jsonify({**{k: closed[k] for k in ("id", "status", "session_id")}, "done_at": times.iso(closed["done"])})


# --- the lender's own app: call status ------------------------------------------------------------
@bp.get("/call-status")
@require_key("app")
def call_status():
    """Is the lender calling this borrower now (from this number)? Checks no code, counts nothing."""
    calls = services().calls
    response = jsonify(calls.status(*calls.read_status(request.args)))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- reports for review ---------------------------------------------------------------------------
@bp.get("/reports")
@require_key("reports")
def list_reports():
    """Reports for review, newest first: filters status, number, category, since, until; cursor paging."""
    svc = services()
    found, cursor = svc.review.find(read_filters(request.args, svc.settings.default_region))
    return jsonify({"reports": found, "next_cursor": cursor})


@bp.get("/reports/<report_id>")
@require_key("reports")
def get_report(report_id):
    """One report with its notes and history."""
    return jsonify(services().review.get(report_id))


@bp.patch("/reports/<report_id>")
@require_key("reports")
def review_report(report_id):
    """Change a report's status or assignee, or add a note; every change lands in its history."""
    return jsonify(services().review.review_request(g.actor, report_id, json_body()))


# --- registry -------------------------------------------------------------------------------------
@bp.get("/numbers")
@require_key("registry")
def list_numbers():
    """Every official number in the registry."""
    return jsonify({"numbers": [_entry(e) for e in services().numbers.all()]})


@bp.get("/numbers/inbound-only")
def inbound_only_numbers():
    """The active official numbers that never call out (public, cacheable): calls showing them are fake."""
    response = jsonify({"numbers": services().numbers.inbound_only()})
    response.headers["Cache-Control"] = f"public, max-age={FEED_MAX_AGE}"
    response.add_etag()  # strong: a hash of the body
    return response.make_conditional(request)


@bp.post("/numbers")
@require_key("registry")
def add_number():
    """Register an official number."""
    entry = services().numbers.add(g.actor, json_body())
    return _created(_entry(entry), url_for("api.get_number", number=entry["number"]))


@bp.get("/numbers/<number>")
@require_key("registry")
def get_number(number):
    """One registry entry, by its number in any format."""
    return jsonify(_entry(services().numbers.get(number)))


@bp.patch("/numbers/<number>")
@require_key("registry")
def update_number(number):
    """Change an entry: labels, purpose, direction, status (retire), variants, notes."""
    return jsonify(_entry(services().numbers.update(g.actor, number, json_body())))


def _entry(entry):
    return {k: v for k, v in entry.items() if k != "variant_displays"}


# --- description ----------------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())


@functools.cache
def openapi_document():
    """The OpenAPI document shipped in the package (read once)."""
    return json.loads(resources.files("verify").joinpath("openapi.json").read_text(encoding="utf-8"))

"""The JSON API: public number check and call verification, call-centre sessions, registry.

Views parse input, call one domain function and shape the answer; errors are problem details.
"""

import datetime as dt
import functools
import json
import re
from importlib import resources

from flask import Blueprint, g, jsonify, request, url_for

from verify import answers, clock, fields, phones, reporting
from verify import verdicts as v
from verify.errors import Invalid, NotFound
from verify.registry import apikeys, audit, numbers, reports
from verify.routes.problems import Problem, json_body, problem_response, unavailable_problem
from verify.services import services

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# --- authentication -------------------------------------------------------------------------
def require_key(scope):
    """Allow the view only with a valid API key of ``scope`` (401 without or with a bad key, 403 wrong scope)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            challenge = {"WWW-Authenticate": 'Bearer realm="verify"'}
            if scheme.lower() != "bearer" or not token.strip():
                raise Problem(401, "This needs an API key: send 'Authorization: Bearer <key>'.", headers=challenge)
            key = apikeys.authenticate(services().store, token.strip())
            if key is None:
                raise Problem(401, "This API key is not valid or has been revoked.", headers=challenge)
            if key["scope"] != scope:
                raise Problem(403, f"This API key has scope '{key['scope']}'; this needs scope '{scope}'.")
            g.api_key = key
            return view(*args, **kwargs)

        return wrapper

    return decorate


# --- public: number check and call verification ---------------------------------------------------
@bp.get("/check")
def check():
    """Is this number one of ours, imitating ours, or reported? Public."""
    svc = services()
    errors = []
    phone = fields.number(request.args, "number", errors, svc.region, reader=phones.parse_checked)
    if errors:
        raise Invalid(errors)
    answer = answers.for_number(svc, phone)
    if answer.verdict == v.UNAVAILABLE:
        return unavailable_problem(verdict=answer.verdict, advice=answer.advice)
    facts = answer.facts
    body = {
        "number": phone.e164,
        "display": phone.display,
        "verdict": answer.verdict,
        "label": facts.entry["labels"] if facts.entry else None,
        "advice": answer.advice,
        "reports_30d": facts.reporters_30d,
    }
    if answer.verdict == v.LOOKALIKE:
        imitated = facts.imitated
        body["imitates"] = {"number": imitated["number"], "display": answer.imitated, "label": imitated["labels"]}
    return jsonify(body)


@bp.post("/verify")
def verify_call():
    """Did the lender really call me? The borrower's own number and the code the caller gave. Public."""
    svc = services()
    data = json_body()
    errors = []
    fields.no_unknown(data, ("phone", "code", "caller"), errors)
    phone = fields.number(data, "phone", errors, svc.region, reader=phones.normalise_mobile)
    code = fields.code(data, errors)
    caller = fields.number(data, "caller", errors, svc.region, reader=phones.parse, required=False)
    if errors:
        raise Invalid(errors)
    answer = answers.for_code(svc, phone, code, caller, channel="api")
    if answer.verdict == v.UNAVAILABLE:
        return unavailable_problem(verdict=answer.verdict, advice=answer.advice)
    if answer.verdict == v.LOCKED:
        return problem_response(
            429,
            "Too many wrong codes for this phone number. Hang up and call the official hotline yourself.",
            title="Too many wrong codes",
            type_="urn:verify:problem:locked",
            headers={"Retry-After": str(answer.retry_after)},
            verdict=answer.verdict,
            advice=answer.advice,
        )
    body = {"verdict": answer.verdict, "advice": answer.advice}
    if answer.session:
        shown = dict(answer.session)
        shown["started_at"], shown["expires_at"] = clock.iso(shown.pop("created")), clock.iso(shown.pop("expires"))
        body["session"] = shown
    return jsonify(body)


# --- call centre: sessions ------------------------------------------------------------------------
_AGENT_ID = re.compile(r"^[A-Za-z0-9._-]+$")
_SESSION_FIELDS = ("borrower", "caller", "agent_id", "agent_name", "purpose", "loan_ref", "ttl_seconds", "notify")


@bp.post("/sessions")
@require_key("sessions")
def open_session():
    """Open a callback session before dialling; answers the code the agent reads to the borrower."""
    svc = services()
    data = json_body()
    errors = []
    fields.no_unknown(data, _SESSION_FIELDS, errors)
    borrower = fields.number(data, "borrower", errors, svc.region, reader=phones.normalise_mobile)
    caller = fields.number(data, "caller", errors, svc.region)
    # Short enough to fit one SMS with everything else a genuine reply says.
    agent_id = fields.text(data, "agent_id", errors, 12)
    if agent_id and not _AGENT_ID.match(agent_id):
        errors.append(("agent_id", "use letters, digits, dot, dash or underscore"))
        agent_id = None
    agent_name = fields.text(data, "agent_name", errors, 32)
    purpose = fields.text(data, "purpose", errors, 120)
    loan_ref = fields.text(data, "loan_ref", errors, 64, required=False)
    ttl = data.get("ttl_seconds", svc.session_ttl)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= svc.session_ttl_max:
        errors.append(("ttl_seconds", f"must be a whole number of seconds from 1 to {svc.session_ttl_max}"))
    notify = data.get("notify", False)
    if not isinstance(notify, bool):
        errors.append(("notify", "must be true or false"))
    entry = numbers.entry_for(svc.store, caller) if caller else None
    if caller and (entry is None or entry["status"] != "active" or entry["direction"] == "inbound_only"):
        errors.append(("caller", "must be an active official number that calls out"))
    if errors:
        raise Invalid(errors)
    callers = [entry["number"], *entry["variants"]]
    notice = svc.notifier.first_state(borrower) if notify else None
    session_id, code, created, expires = svc.sessions.open(
        borrower, caller, callers, agent_id, agent_name, purpose, loan_ref, ttl, notice=notice
    )
    if notice:
        svc.notifier.dispatch(session_id, notice, borrower, caller, ttl)
    audit.record(svc.store, f"key:{g.api_key['name']}", "session_start", session_id, request.remote_addr,
                 f"{phones.mask(borrower.e164)} agent {agent_id}")
    body = {"id": session_id, "code": code, "created_at": clock.iso(created), "expires_at": clock.iso(expires)}
    if notice:
        body["notice"] = notice
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_session", session_id=session_id)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessions/<session_id>")
@require_key("sessions")
def get_session(session_id):
    """A session's state and how many checks succeeded or failed."""
    try:
        session = services().sessions.get(session_id)
    except NotFound:
        raise Problem(404, "There is no such session (sessions are forgotten an hour after they expire).") from None
    for field in ("created", "expires", "ended"):
        moment = session.pop(field)
        session[f"{field}_at"] = clock.iso(moment) if moment is not None else None
    return jsonify(session)


@bp.delete("/sessions/<session_id>")
@require_key("sessions")
def end_session(session_id):
    """End a session after the call: its code stops working at once."""
    try:
        services().sessions.end(session_id)
    except NotFound:
        raise Problem(404, "There is no such session (sessions are forgotten an hour after they expire).") from None
    audit.record(services().store, f"key:{g.api_key['name']}", "session_end", session_id, request.remote_addr)
    return "", 204


# --- reports -----------------------------------------------------------------------------------
@bp.post("/reports")
def file_report():
    """Report a scam call or SMS. Public and rate limited per client IP; the same domain function
    as the web form and the SMS REPORT command."""
    svc = services()
    try:
        # The per-IP limit is checked in the same Lua call as the write: one round trip.
        report_id, now = reporting.file(svc, json_body(), "api", request.remote_addr, svc.report_limits)
    except reports.RateLimited as exc:
        raise Problem(429, "Too many reports from your address. Please wait a little and try again.",
                      headers={"Retry-After": str(exc.retry_after)}) from None
    response = jsonify({"id": report_id, "received_at": clock.iso(now)})
    response.status_code = 201
    return response


def _moment(value, field, errors):
    """A query-string time: ISO 8601 (2026-11-30 or 2026-11-30T08:00:00Z) or Unix seconds."""
    if value in (None, ""):
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.append((field, "must be a date or time like 2026-11-30 or 2026-11-30T08:00:00Z"))
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).timestamp())


@bp.get("/reports")
@require_key("reports")
def list_reports():
    """Reports for review, newest first: filters status, number, category, since, until; cursor paging."""
    svc = services()
    args, errors = request.args, []
    number = fields.number(args, "number", errors, svc.region, reader=phones.parse, required=False)
    since, until = _moment(args.get("since"), "since", errors), _moment(args.get("until"), "until", errors)
    limit = args.get("limit", "50")
    if not limit.isdigit() or not 1 <= int(limit) <= 200:
        errors.append(("limit", "must be a whole number from 1 to 200"))
    if errors:
        raise Invalid(errors)
    found, cursor = reports.find(
        svc.store, status=args.get("status"), number=number.e164 if number else None, category=args.get("category"),
        since=since, until=until, cursor=args.get("cursor"), limit=int(limit),
    )
    return jsonify({"reports": found, "next_cursor": cursor})


@bp.get("/reports/<report_id>")
@require_key("reports")
def get_report(report_id):
    """One report with its notes and history."""
    try:
        return jsonify(reports.get_decoded(services().store, report_id))
    except NotFound:
        raise Problem(404, "There is no such report.") from None


@bp.patch("/reports/<report_id>")
@require_key("reports")
def review_report(report_id):
    """Change a report's status or assignee, or add a note; every change lands in its history."""
    svc = services()
    data = json_body()
    errors = []
    fields.no_unknown(data, ("status", "assignee", "note"), errors)
    if errors:
        raise Invalid(errors)
    who = f"key:{g.api_key['name']}"
    try:
        before = reports.get_decoded(svc.store, report_id)
        updated = reports.review(svc.store, report_id, who, data.get("status"), data.get("assignee"), data.get("note"))
    except NotFound:
        raise Problem(404, "There is no such report.") from None
    _audit_review(svc.store, who, before, updated)
    return jsonify(updated)


def _audit_review(store, who, before, after):
    ip = request.remote_addr
    if before["status"] != after["status"]:
        audit.record(store, who, "report_status", after["id"], ip, f"{before['status']} -> {after['status']}")
    if before["assignee"] != after["assignee"]:
        audit.record(store, who, "report_assign", after["id"], ip, after["assignee"])
    if len(after["notes"]) > len(before["notes"]):
        audit.record(store, who, "report_note", after["id"], ip)


# --- registry -----------------------------------------------------------------------------------
@bp.get("/numbers")
@require_key("registry")
def list_numbers():
    """Every official number in the registry."""
    return jsonify({"numbers": numbers.all_entries(services().store, services().region)})


@bp.post("/numbers")
@require_key("registry")
def add_number():
    """Register an official number."""
    entry = numbers.add(services().store, json_body(), services().region)
    audit.record(services().store, f"key:{g.api_key['name']}", "registry_add", entry["number"], request.remote_addr)
    response = jsonify(entry)
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_number", number=entry["number"])
    return response


@bp.get("/numbers/<number>")
@require_key("registry")
def get_number(number):
    """One registry entry, by its number in any format."""
    return jsonify(_entry_or_404(lambda: numbers.get(services().store, number, services().region)))


@bp.patch("/numbers/<number>")
@require_key("registry")
def update_number(number):
    """Change an entry: labels, purpose, direction, status (retire), variants, notes."""
    data = json_body()
    entry = _entry_or_404(lambda: numbers.update(services().store, number, data, services().region))
    audit.record(services().store, f"key:{g.api_key['name']}", "registry_update", entry["number"], request.remote_addr,
                 ",".join(sorted(data)))
    return jsonify(entry)


def _entry_or_404(action):
    try:
        return action()
    except NotFound:
        raise Problem(404, "That number is not in the registry.") from None


# --- description ------------------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())


@functools.cache
def openapi_document():
    """The OpenAPI document shipped in the package (read once)."""
    return json.loads(resources.files("verify").joinpath("openapi.json").read_text(encoding="utf-8"))

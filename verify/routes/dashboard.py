"""The support team's dashboard: report queue and review, numbers, spoofing alerts, audit log, and
the agent console. Every view checks the role; every page is ``Cache-Control: no-store``."""

import csv
import datetime as dt
import io
import json
import time

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for

from verify import clock, forms, logins, phones
from verify.errors import Conflict, Invalid, NotFound
from verify.logins import require_role
from verify.registry import apikeys, audit, numbers, reports, staff
from verify.services import services

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

SUPPORT = ("admin", "support")
AGENTS = ("admin", "agent")


@bp.after_request
def no_store(response):
    """Nothing from the dashboard is kept by browsers or proxies."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _ip():
    return request.remote_addr or ""


# --- login -------------------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with name and password; five failures lock the name for 15 minutes."""
    form = forms.LoginForm()
    error = None
    if form.validate_on_submit():
        account, reason = staff.authenticate(services().store, form.name.data.strip(), form.password.data)
        if account:
            logins.log_in(account)
            audit.record(services().store, account["name"], "login", ip=_ip())
            target = request.args.get("next", "")
            # Only paths on this site: an open redirect would help phishing.
            if not target.startswith("/dashboard") or target.startswith("//"):
                target = url_for("dashboard.home")
            return redirect(target)
        audit.record(services().store, form.name.data.strip()[:32], "login_failed", ip=_ip(), detail=reason)
        error = ("Too many failed logins: this account is locked for 15 minutes." if reason == "locked"
                 else "Wrong name or password.")
    return render_template("dashboard/login.html", form=form, error=error), 200 if error is None else 401


@bp.post("/logout")
def logout():
    """Log out; the server forgets the session, so a copied cookie stops working."""
    name = logins.who()
    logins.log_out()
    if name:
        audit.record(services().store, name, "logout", ip=_ip())
    return redirect(url_for("dashboard.login"))


@bp.get("/")
@require_role("admin", "support", "agent")
def home():
    """Where each role starts."""
    if g.staff.role == "agent":
        return redirect(url_for("dashboard.agent_console"))
    return redirect(url_for("dashboard.overview"))


@bp.get("/overview")
@require_role(*SUPPORT)
def overview():
    """Reports per day for 30 days, the most reported numbers, the categories: SVG drawn here."""
    data = reports.overview(services().store, int(time.time()))
    peak = max([d["count"] for d in data["days"]] + [1])
    top = max([n["count"] for n in data["top_numbers"]] + [1])
    most = max(list(data["categories"].values()) + [1])
    return render_template("dashboard/overview.html", data=data, peak=peak, top=top, most=most)


@bp.get("/reports/export.<fmt>")
@require_role(*SUPPORT)
def export(fmt):
    """The filtered reports as CSV or JSON, for the police or an anti-fraud centre (fields: README)."""
    if fmt not in ("csv", "json"):
        abort(404)
    svc = services()
    args, errors = request.args, []
    number = None
    if args.get("number"):
        try:
            number = phones.parse(args["number"], svc.region).e164
        except phones.InvalidNumber:
            abort(400)
    since, until = _day(args.get("since"), errors), _day(args.get("until"), errors, end=True)
    if errors:
        abort(400)
    try:
        rows = reports.export_rows(svc.store, status=args.get("status") or None, number=number,
                                   category=args.get("category") or None, since=since, until=until)
    except Invalid:
        abort(400)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    disposition = {"Content-Disposition": f'attachment; filename="verify-reports-{stamp}.{fmt}"'}
    if fmt == "json":
        return Response(json.dumps(rows, ensure_ascii=False, indent=1), mimetype="application/json", headers=disposition)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reports.EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "categories": ";".join(row["categories"]),
                         **{f: _inert(row[f]) for f in ("number_raw", "text", "assignee")}})
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers=disposition)


def _inert(value):
    # Spreadsheets run cells that start with = + - @ as formulas: reporters write these fields.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- reports -----------------------------------------------------------------------------------------
@bp.get("/reports")
@require_role(*SUPPORT)
def queue():
    """The report queue: filter by status, number, category and dates; cursor paging."""
    svc = services()
    args = request.args
    errors, number = [], None
    if args.get("number"):
        try:
            number = phones.parse(args["number"], svc.region).e164
        except phones.InvalidNumber as exc:
            errors.append(str(exc))
    since, until = _day(args.get("since"), errors), _day(args.get("until"), errors, end=True)
    found, cursor = [], None
    if not errors:
        try:
            found, cursor = reports.find(svc.store, status=args.get("status") or None, number=number,
                                         category=args.get("category") or None, since=since, until=until,
                                         cursor=args.get("cursor") or None, limit=50)
        except Invalid as exc:
            errors += [message for _field, message in exc.errors]
    return render_template("dashboard/queue.html", reports=found, cursor=cursor, errors=errors, args=args,
                           statuses=reports.STATUSES, categories=reports.CATEGORIES)


def _day(value, errors, end=False):
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        errors.append(f"{value!r} is not a date like 2026-11-30")
        return None
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
    return start + 86399 if end else start


@bp.route("/reports/<report_id>", methods=["GET", "POST"])
@require_role(*SUPPORT)
def report_detail(report_id):
    """One report: change status, assign, add a note; every change lands in its history."""
    svc = services()
    try:
        report = reports.get_decoded(svc.store, report_id)
    except NotFound:
        abort(404)
    form = forms.ReviewForm(status=report["status"], assignee=report["assignee"])
    form.status.choices = forms.choices(*reports.STATUSES)
    if form.validate_on_submit():
        who = logins.who()
        try:
            updated = reports.review(svc.store, report_id, who, form.status.data, form.assignee.data.strip(),
                                     form.note.data or None)
        except Invalid as exc:
            form.note.errors = [message for _field, message in exc.errors]
        else:
            for action, changed in (("report_status", updated["status"] != report["status"]),
                                    ("report_assign", updated["assignee"] != report["assignee"]),
                                    ("report_note", len(updated["notes"]) > len(report["notes"]))):
                if changed:
                    audit.record(svc.store, who, action, report_id, _ip())
            return redirect(url_for("dashboard.report_detail", report_id=report_id), code=303)
    return render_template("dashboard/report.html", report=report, form=form)


@bp.route("/numbers/<number>", methods=["GET", "POST"])
@require_role(*SUPPORT)
def number_view(number):
    """Every report about a number, its distinct reporters in 24 h, 7 d, 30 d; mark known scam or clear."""
    svc = services()
    try:
        phone = phones.parse(number, svc.region)
    except phones.InvalidNumber:
        abort(404)
    form = forms.ActionForm()
    if form.validate_on_submit():
        known = request.form.get("action") == "mark"
        reports.mark_known_scam(svc.store, phone.e164, known)
        audit.record(svc.store, logins.who(), "number_known_scam" if known else "number_cleared", phones.mask(phone.e164), _ip())
        return redirect(url_for("dashboard.number_view", number=phone.e164), code=303)
    found, _cursor = reports.find(svc.store, number=phone.e164, limit=200)
    return render_template("dashboard/number.html", phone=phone, reports=found, form=form,
                           counts=reports.reporter_counts(svc.store, phone.e164, int(time.time())),
                           known=reports.is_known_scam(svc.store, phone.e164),
                           entry=numbers.entry_for(svc.store, phone))


@bp.get("/alerts")
@require_role(*SUPPORT)
def alerts():
    """Spoofing alerts: our own numbers that people reported as scam calls lately."""
    svc = services()
    now = int(time.time())
    rows = []
    for entry in numbers.all_entries(svc.store, svc.region):
        counts = reports.reporter_counts(svc.store, entry["number"], now)
        if counts["30d"]:
            rows.append({"entry": entry, "counts": counts})
    rows.sort(key=lambda row: (-row["counts"]["24h"], -row["counts"]["7d"], -row["counts"]["30d"]))
    return render_template("dashboard/alerts.html", rows=rows)


# --- registry and API keys (admin) -------------------------------------------------------------------
@bp.route("/registry", methods=["GET", "POST"])
@require_role("admin")
def registry():
    """The official numbers: add one, or open one to change or retire it."""
    svc = services()
    form = forms.NumberForm()
    if form.validate_on_submit():
        try:
            entry = numbers.add(svc.store, form.entry_data(), svc.region)
        except (Invalid, Conflict) as exc:
            form.number.errors = [str(exc)]
        else:
            audit.record(svc.store, logins.who(), "registry_add", entry["number"], _ip())
            return redirect(url_for("dashboard.registry"), code=303)
    return render_template("dashboard/registry.html", entries=numbers.all_entries(svc.store, svc.region), form=form)


@bp.route("/registry/<number>", methods=["GET", "POST"])
@require_role("admin")
def registry_entry(number):
    """Change an official number: labels, purpose, direction, variants, notes; retire it."""
    svc = services()
    try:
        entry = numbers.get(svc.store, number, svc.region)
    except NotFound:
        abort(404)
    form = forms.NumberForm(data={**entry, "label_zh": entry["labels"]["zh"], "label_en": entry["labels"]["en"],
                                  "variants": " ".join(entry["variants"])})
    if form.validate_on_submit():
        changes = form.entry_data()
        changes.pop("number")
        try:
            numbers.update(svc.store, entry["number"], changes, svc.region)
        except (Invalid, Conflict) as exc:
            form.notes.errors = [str(exc)]
        else:
            audit.record(svc.store, logins.who(), "registry_update", entry["number"], _ip(), changes.get("status", ""))
            return redirect(url_for("dashboard.registry"), code=303)
    return render_template("dashboard/registry_entry.html", entry=entry, form=form)


@bp.route("/keys", methods=["GET", "POST"])
@require_role("admin")
def keys():
    """API keys: create one (shown once), revoke one."""
    svc = services()
    form = forms.KeyForm()
    created = None
    if form.validate_on_submit():
        try:
            created = apikeys.create(svc.store, form.name.data.strip(), form.scope.data)
        except (Invalid, Conflict) as exc:
            form.name.errors = [str(exc)]
        else:
            audit.record(svc.store, logins.who(), "key_create", form.name.data.strip(), _ip(), form.scope.data)
    return render_template("dashboard/keys.html", keys=apikeys.list_keys(svc.store), form=form, created=created,
                           revoke=forms.ActionForm())


@bp.post("/keys/<name>/revoke")
@require_role("admin")
def revoke_key(name):
    """Revoke a key: it stops working at once."""
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        apikeys.revoke(services().store, name)
    except NotFound:
        abort(404)
    audit.record(services().store, logins.who(), "key_revoke", name, _ip())
    return redirect(url_for("dashboard.keys"), code=303)


# --- audit -------------------------------------------------------------------------------------------
@bp.get("/audit")
@require_role("admin")
def audit_log():
    """The audit trail, newest first, filterable by who and action."""
    args = request.args
    action = args.get("action") or None
    if action and action not in audit.ACTIONS:
        action = None
    entries, cursor = audit.entries(services().store, who=args.get("who") or None, action=action,
                                    before=args.get("cursor") or None, limit=100)
    return render_template("dashboard/audit.html", entries=entries, cursor=cursor, args=args, actions=audit.ACTIONS)


# --- agent console -----------------------------------------------------------------------------------
@bp.route("/agent", methods=["GET", "POST"])
@require_role(*AGENTS)
def agent_console():
    """Start a callback session before dialling: the code to read out, what to tell the borrower."""
    svc = services()
    outbound = numbers.outbound_numbers(svc.store, svc.region)
    form = forms.AgentSessionForm()
    form.caller.choices = forms.labelled_choices((e["number"], f"{e['display']} · {e['labels']['en']}") for e in outbound)
    started = None
    if form.validate_on_submit():
        try:
            borrower = phones.normalise_mobile(form.borrower.data, svc.region)
        except phones.InvalidNumber as exc:
            form.borrower.errors = [str(exc)]
        else:
            entry = next(e for e in outbound if e["number"] == form.caller.data)
            caller = phones.parse(entry["number"], svc.region)
            session_id, code, _created, expires = svc.sessions.open(
                borrower, caller, [entry["number"], *entry["variants"]], logins.who()[:12], logins.who(),
                form.purpose.data.strip(), None, svc.session_ttl,
            )
            audit.record(svc.store, logins.who(), "session_start", session_id, _ip(), phones.mask(borrower.e164))
            started = {"id": session_id, "code": code, "expires": expires, "caller": entry["display"],
                       "borrower": phones.mask(borrower.e164)}
    return render_template("dashboard/agent.html", form=form, started=started, sms_number=svc.brand["sms"])


@bp.get("/agent/sessions/<session_id>")
@require_role(*AGENTS)
def agent_session(session_id):
    """How the session is going: did the borrower verify?"""
    try:
        state = services().sessions.get(session_id)
    except NotFound:
        abort(404)
    return render_template("dashboard/agent_session.html", state=state, form=forms.ActionForm())


@bp.post("/agent/sessions/<session_id>/end")
@require_role(*AGENTS)
def agent_end(session_id):
    """End the session after the call."""
    form = forms.ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services().sessions.end(session_id)
    except NotFound:
        abort(404)
    audit.record(services().store, logins.who(), "session_end", session_id, _ip())
    return redirect(url_for("dashboard.agent_session", session_id=session_id), code=303)


def register(app):
    """Attach the dashboard and its template filters."""
    app.register_blueprint(bp)
    app.add_template_filter(lambda ts: clock.iso(int(ts)), "utc")

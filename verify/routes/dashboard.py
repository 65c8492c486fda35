"""The support team's dashboard: report queue and review, numbers, spoofing alerts, audit log, and
the agent console. Every view checks the role; every page is ``Cache-Control: no-store``."""

import csv
import datetime as dt
import io
import json

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for

from verify import phones, times
from verify.errors import Conflict, Invalid, RateLimited
from verify.routes import forms, labels, logins, pages, services
from verify.routes.i18n import _, _l, current_language, ngettext
from verify.routes.logins import actor, require_role
from verify.services.audit import ACTIONS
from verify.services.reports import CATEGORIES
from verify.services.review import EXPORT_FIELDS, FILTERS, STATUSES, read_filters

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
pages.register(bp, staff=True)
bp.add_app_template_filter(labels.named, "named")

SUPPORT = ("admin", "support")
AGENTS = ("admin", "agent")


@bp.after_request
def no_store(response):
    """Nothing from the dashboard is kept by browsers or proxies."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _field_errors(exc, field, form=None):
    # Each message under the form's field of its name when there is one, else under ``field``; in the
    # page's language.
    named = exc.errors if isinstance(exc, Invalid) else [(None, exc.message)]
    for (name, _message), said in zip(named, labels.said_all(exc), strict=True):
        name = (name or "").split("[", 1)[0]  # variants[2]: the variants field
        target = form[name] if form is not None and name in form else field
        target.errors = list(target.errors) + [said]


# --- login ---------------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with name and password; five failures lock the name for 15 minutes."""
    form, error = forms.LoginForm(), None
    if form.validate_on_submit():
        try:
            logins.log_in(form.name.data.strip(), form.password.data)
            return redirect(_next_page())
        except (Invalid, RateLimited) as exc:
            error = labels.said_all(exc)[0]
    return render_template("dashboard/login.html", form=form, error=error), 200 if error is None else 401


def _next_page():
    # Only paths on this site: an open redirect would help phishing.
    target = request.args.get("next", "")
    return target if target.startswith("/dashboard") and not target.startswith("//") else url_for("dashboard.home")


@bp.post("/logout")
def logout():
    """Log out; the server forgets the session, so a copied cookie stops working."""
    logins.log_out()
    return redirect(url_for("dashboard.login"))


@bp.get("/")
@require_role("admin", "support", "agent")
def home():
    """Where each role starts."""
    return redirect(url_for("dashboard.agent_console" if g.staff.role == "agent" else "dashboard.overview"))


@bp.get("/overview")
@require_role(*SUPPORT)
def overview():
    """Reports per day for 30 days, the most reported numbers, the categories: SVG drawn here."""
    data = services().review.overview()
    peak = max([d["count"] for d in data["days"]] + [1])
    top = max([n["count"] for n in data["top_numbers"]] + [1])
    most = max(list(data["categories"].values()) + [1])
    return render_template("dashboard/overview.html", data=data, peak=peak, top=top, most=most)


# --- reports -------------------------------------------------------------------------------------
def _filters():
    settings = services().settings  # dates typed in the queue's filter are local days
    return read_filters(request.args, settings.default_region, zone=times.zone(settings.timezone))


@bp.get("/reports")
@require_role(*SUPPORT)
def queue():
    """The report queue: filter by status, number, category and dates; cursor paging; bulk changes."""
    return _queue_page()


def _queue_page(problems=(), status=200, sent=None):
    # sent: a refused bulk form, shown again as it was (its rows still ticked) under the reason
    found, errors = {"reports": [], "cursor": None, "assignees": []}, list(problems)
    try:
        found = services().review.queue(_filters())
    except Invalid as exc:
        errors += [f"{FILTER_NAMES.get(field, field)}: {labels.said(message)}" for field, message in exc.errors]
    sent = {"report": sent.getlist("report"), "status": sent.get("status"), "assignee": sent.get("assignee")} if sent else {}
    return render_template("dashboard/queue.html", **found, errors=errors, args=_shown(), statuses=STATUSES,
                           categories=CATEGORIES, labels=LABELS, nobody=NOBODY, sent=sent), status


def _shown():
    return {name: value for name, value in request.args.items() if name in FILTERS}  # links carry only these


# The queue's filters as their fields are labelled, for the errors above the form.
FILTER_NAMES = {"status": _l("Status"), "number": _l("Number"), "category": _l("Category"), "since": _l("From (date)"),
                "until": _l("To (date)"), "cursor": _l("Page"), "limit": _l("Page")}
NOBODY = "-"  # the bulk form's "assign to nobody" (no staff name is "-"); an empty choice keeps the assignee
@bp.post("/reports/bulk")
@require_role(*SUPPORT)
def bulk():
    """Give the selected reports a status and/or an assignee: all of them or none (400 with the reason,
    nothing changed), each change audited per report; back to the queue with how many changed."""
    status, assignee = request.form.get("status") or None, request.form.get("assignee") or None
    try:
        count = services().review.review_many(actor(), request.form.getlist("report"), status,
                                              "" if assignee == NOBODY else assignee)
    except Invalid as exc:
        return _queue_page(labels.said_all(exc), 400, request.form)
    flash(ngettext("Saved: %(num)d report changed.", "Saved: %(num)d reports changed.", count), "saved")
    return redirect(url_for("dashboard.queue", **_shown()), code=303)


@bp.get("/reports/export.<fmt>")
@require_role(*SUPPORT)
def export(fmt):
    """The filtered reports as CSV or JSON, for the police or an anti-fraud centre (fields: README)."""
    if fmt not in ("csv", "json"):
        abort(404)
    rows = services().review.export_rows(_filters())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    disposition = {"Content-Disposition": f'attachment; filename="verify-reports-{stamp}.{fmt}"'}
    if fmt == "json":
        return Response(json.dumps(rows, ensure_ascii=False, indent=1), mimetype="application/json", headers=disposition)
    return Response(_csv(rows), mimetype="text/csv", headers=disposition)


def _csv(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "categories": ";".join(row["categories"]),
                         **{f: _inert(row[f]) for f in ("number_raw", "text", "assignee")}})
    return "\ufeff" + out.getvalue()


def _inert(value):
    # Spreadsheets run cells that start with = + - @ as formulas: reporters write these fields.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.post("/reports/<report_id>/contact")
@require_role(*SUPPORT)
def report_contact(report_id):
    """The reporter's number in full, to call them back: asked for on purpose, audited."""
    contact = services().review.contact(actor(), report_id)
    return render_template("dashboard/contact.html", report_id=report_id, contact=contact)


@bp.route("/reports/<report_id>", methods=["GET", "POST"])
@require_role(*SUPPORT)
def report_detail(report_id):
    """One report, with the previous and next ones as the queue lists them (its filters ride along in the
    address): change status, assign, add a note; every change lands in its history."""
    found = services().review.detail(report_id, _filters())
    form = forms.ReviewForm(status=found["report"]["status"], assignee=found["report"]["assignee"])
    form.status.choices = forms.labelled_choices(labels.pairs("report_status", STATUSES))
    if form.validate_on_submit():
        try:
            services().review.review(actor(), report_id, form.status.data, form.assignee.data.strip(), form.note.data or None)
            flash(_("Saved."), "saved")
            return redirect(url_for("dashboard.report_detail", report_id=report_id, **_shown()), code=303)
        except Invalid as exc:
            _field_errors(exc, form.note)
    return render_template("dashboard/report.html", **found, form=form, args=_shown(), labels=LABELS)


# What the queue and a report show for stored values, in the page's language (routes/labels.py).
LABELS = {"status": labels.NAMES["report_status"], "category": labels.NAMES["category"],
          "channel": labels.NAMES["channel"], "source": {**labels.NAMES["channel"], "voice": _l("voice")}}


@bp.route("/numbers/<number>", methods=["GET", "POST"])
@require_role(*SUPPORT)
def number_view(number):
    """Every report about a number, its distinct reporters in 24 h, 7 d, 30 d; mark known scam or clear
    (one of our own numbers cannot be marked: 409 with the reason)."""
    phone, form, error = _phone(number), forms.ActionForm(), None
    if form.validate_on_submit():
        try:
            services().review.mark_known_scam(actor(), phone, request.form.get("action") == "mark")
            return redirect(url_for("dashboard.number_view", number=phone.e164), code=303)
        except Conflict as exc:
            error = labels.said_all(exc)[0]
    about = services().review.about_number(phone)
    return render_template("dashboard/number.html", phone=phone, form=form, error=error, **about), 409 if error else 200


def _phone(number):
    try:
        return phones.parse(number, services().settings.default_region)
    except phones.InvalidNumber:
        abort(404)


@bp.get("/alerts")
@require_role(*SUPPORT)
def alerts():
    """Spoofing alerts: our own numbers that people reported as scam calls lately."""
    return render_template("dashboard/alerts.html", rows=services().review.alerts())


# --- registry and API keys (admin) ---------------------------------------------------------------
@bp.route("/registry", methods=["GET", "POST"])
@require_role("admin")
def registry():
    """The official numbers: add one, or open one to change or retire it."""
    form = forms.NumberForm()
    if form.validate_on_submit():
        try:
            services().numbers.add(actor(), form.entry_data())
            return redirect(url_for("dashboard.registry"), code=303)
        except (Invalid, Conflict) as exc:
            _field_errors(exc, form.number, form)
    return render_template("dashboard/registry.html", entries=services().numbers.all(), form=form)


@bp.route("/registry/<number>", methods=["GET", "POST"])
@require_role("admin")
def registry_entry(number):
    """Change an official number: labels, purpose, direction, variants, notes; retire it."""
    entry = services().numbers.get(number)
    form = forms.NumberForm(data={**entry, "label_zh": entry["labels"]["zh"], "label_en": entry["labels"]["en"],
                                  "variants": " ".join(entry["variants"])})
    if form.validate_on_submit():
        try:
            services().numbers.update(actor(), entry["number"], {k: v for k, v in form.entry_data().items() if k != "number"})
            return redirect(url_for("dashboard.registry"), code=303)
        except (Invalid, Conflict) as exc:
            _field_errors(exc, form.notes, form)
    return render_template("dashboard/registry_entry.html", entry=entry, form=form)


@bp.route("/keys", methods=["GET", "POST"])
@require_role("admin")
def keys():
    """API keys: create one (shown once), revoke one."""
    form, created = forms.KeyForm(), None
    if form.validate_on_submit():
        try:
            created = services().keys.create(actor(), form.name.data.strip(), form.scope.data)
        except (Invalid, Conflict) as exc:
            _field_errors(exc, form.name, form)
    return render_template("dashboard/keys.html", keys=services().keys.all(), form=form, created=created,
                           revoke=forms.ActionForm())


@bp.post("/keys/<name>/revoke")
@require_role("admin")
def revoke_key(name):
    """Revoke a key: it stops working at once."""
    services().keys.revoke(actor(), name)
    return redirect(url_for("dashboard.keys"), code=303)


# --- audit ---------------------------------------------------------------------------------------
@bp.get("/audit")
@require_role("admin")
def audit_log():
    """The audit trail, newest first, filterable by who and action."""
    args = {name: value for name, value in request.args.items() if name in ("who", "action")}
    entries, cursor = services().audit.entries(who=args.get("who") or None, action=args.get("action") or None,
                                               before=request.args.get("cursor") or None)
    return render_template("dashboard/audit.html", entries=entries, cursor=cursor, args=args, actions=ACTIONS)


# --- staff (admin) -------------------------------------------------------------------------------
@bp.get("/staff")
@require_role("admin")
def staff():
    """Staff accounts: role, the display name borrowers see (masked), agent id; change a display name."""
    return render_template("dashboard/staff.html", accounts=services().staff.all(), form=forms.DisplayNameForm())


@bp.post("/staff/<name>")
@require_role("admin")
def staff_display_name(name):
    """Change an account's display name (its next sessions show it); audited."""
    form = forms.DisplayNameForm()
    if form.validate_on_submit():
        try:
            services().staff.set_display_name(actor(), name, form.display_name.data)
            return redirect(url_for("dashboard.staff", saved=name), code=303)
        except Invalid as exc:
            _field_errors(exc, form.display_name)
    return render_template("dashboard/staff.html", accounts=services().staff.all(), form=form, failed=name)


# --- agent console -------------------------------------------------------------------------------
STATUS_LABELS = {
    "active": _l("waiting for the borrower to verify"),
    "confirmed": _l("the borrower verified this call"),
    "expired": _l("expired: the code no longer works"),
    "ended": _l("ended: the code no longer works"),
    "locked": _l("locked: too many wrong codes for this borrower"),
}


@bp.route("/agent", methods=["GET", "POST"])
@require_role(*AGENTS)
def agent_console():
    """Start a callback session before dialling. Post/redirect/get: the session has a page of its own,
    so a reload never posts again; a borrower with a live session gets that one, never a new code."""
    form, lines = _agent_form()
    if form.validate_on_submit():
        try:
            opened = services().console.start(actor(), form.borrower.data, form.caller.data, form.purpose.data)
            return _to_session(opened)
        except Invalid as exc:
            _field_errors(exc, form.borrower, form)
    return _agent_page(form, lines)


def _agent_page(form, lines, error=None, shown=None):
    # The console: the start form, then the borrowers' callback requests waiting, oldest first.
    svc = services()
    waiting, _cursor = svc.callback_requests.waiting({"limit": "100"})
    return render_template("dashboard/agent.html", form=form, lines=lines, me=svc.console.me(actor()),
                           waiting=waiting, expired=svc.callback_requests.expired(), action=forms.ActionForm(),
                           error=error, shown=shown), 200 if error is None else 409


def _agent_form(fresh=False):
    # ``fresh``: a form not bound to this POST (the console shown again after a callback request's button).
    console = services().console
    lines = console.lines()
    form = forms.AgentSessionForm(formdata=None) if fresh else forms.AgentSessionForm()
    default = console.default_line(lines)
    placeholder = [] if default else [("", _("Choose the line you will call from"))]
    form.caller.choices = forms.labelled_choices(
        placeholder + [(e["number"], f"{e['display']} · {e['labels'][current_language()]}") for e in lines])
    if fresh or not form.is_submitted():
        form.caller.data = default or ""
    return form, lines


def _to_session(opened, replaced=False):
    # The live session found instead of a new one is said so on its page.
    shown = {"already": 1} if opened.live else {"replaced": 1} if replaced else {}
    return redirect(url_for("dashboard.agent_session", session_id=opened.id, **shown), code=303)


@bp.post("/agent/callbacks/<request_id>/number")
@require_role(*AGENTS)
def agent_callback_number(request_id):
    """The borrower's number in full, for the agent about to call: asked for on purpose, audited."""
    phone = services().callback_requests.number(actor(), request_id)
    return _agent_page(*_agent_form(fresh=True), shown={"id": request_id, "phone": phone})


@bp.post("/agent/callbacks/<request_id>/call")
@require_role(*AGENTS)
def agent_call_back(request_id):
    """Call a borrower back: a session as "Start session" opens one, the request closed with its id."""
    try:
        return _to_session(services().console.call_back(actor(), request_id))
    except (Invalid, Conflict) as exc:
        return _agent_page(*_agent_form(fresh=True), error=labels.said_all(exc)[0])


@bp.get("/agent/sessions/<session_id>")
@require_role(*AGENTS)
def agent_session(session_id):
    """The session's own page (reloading it opens nothing): the code, only for the agent who opened it,
    what to tell the borrower, a countdown and the status, kept up to date by a small script."""
    return _session_page(services().console.session(actor(), session_id))


def _session_page(state, error=None):
    return render_template("dashboard/agent_session.html", state=state, label=STATUS_LABELS[state["status"]],
                           error=error, already="already" in request.args, replaced="replaced" in request.args,
                           form=forms.ActionForm(), sms_number=services().settings.sms_number), 200 if error is None else 409


@bp.get("/agent/sessions/<session_id>/status")
@require_role(*AGENTS)
def agent_status(session_id):
    """The session's status as JSON for the page's script (never the code)."""
    state = services().console.session(actor(), session_id)
    shown = {name: state[name] for name in ("id", "status", "successful_checks", "failed_checks", "locked_channels",
                                            "expires", "ended")}
    return jsonify({**shown, "label": str(STATUS_LABELS[state["status"]]), "name": labels.named(state["status"], "session_status")})


@bp.post("/agent/sessions/<session_id>/replace")
@require_role(*AGENTS)
def agent_replace(session_id):
    """The explicit replace: a new code for the borrower; the old one stops working at once."""
    try:
        return _to_session(services().console.replace(actor(), session_id), replaced=True)
    except Invalid as exc:
        return _session_page(services().console.session(actor(), session_id), error=labels.said_all(exc)[0])


@bp.post("/agent/sessions/<session_id>/end")
@require_role(*AGENTS)
def agent_end(session_id):
    """End the session after the call."""
    services().callbacks.end(actor(), session_id)
    return redirect(url_for("dashboard.agent_session", session_id=session_id), code=303)


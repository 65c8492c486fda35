"""The public pages: check a number, verify a call with its code, report a scam, official numbers.

Server-rendered, working without JavaScript; every text through the catalogs (verify/translations).
"""

import functools
import time

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from verify import phones, times
from verify import verdicts as v
from verify.errors import AreaCodeNeeded, Invalid
from verify.routes import forms, labels, pages, services
from verify.routes.i18n import LANGUAGES, _, current_language
from verify.services import advice, fields
from verify.services.actor import Actor
from verify.services.limits import PAGE_CHECK, PAGE_VERIFY
from verify.services.reports import TOO_EARLY

bp = Blueprint("web", __name__)
pages.register(bp)

# Verdict -> how the result page looks: tone (colour class and icon) and headline.
NUMBER_TONES = {
    v.OFFICIAL: "caution", v.INBOUND_ONLY: "danger", v.RETIRED: "danger", v.LOOKALIKE: "danger",
    v.KNOWN_SCAM: "danger", v.REPORTED: "danger", v.UNKNOWN: "danger", v.UNAVAILABLE: "caution",
}
CALL_TONES = {v.GENUINE: "safe", v.NOT_VERIFIED: "danger", v.LOCKED: "danger", v.UNAVAILABLE: "caution"}
_TOKEN_SLOT = "\x00csrf\x00"


def limited(name):
    """Count each use of the view against the client's ``name`` limit (429 page past it)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            hit = services().client_limits.hit(name, request.remote_addr)
            response = make_response(view(*args, **kwargs))
            response.headers["X-RateLimit-Limit"] = str(hit.limit)
            response.headers["X-RateLimit-Remaining"] = str(hit.remaining)
            return response

        return wrapper

    return decorate


def _home(check_form=None, verify_form=None, status=200):
    return render_template("index.html", check_form=check_form or forms.CheckForm(),
                           verify_form=verify_form or forms.VerifyForm()), status


@bp.get("/")
def index():
    """Is the lender really calling you? Check the number, or verify the call with its code.

    The page is the same for everyone who speaks the same language but for the CSRF token, so it
    is rendered once per language (and language switch) and process, and each visitor's token put in.
    """
    if set(request.args) - {"lang"}:
        return _home(forms.CheckForm(request.args))
    cache = current_app.extensions.setdefault("verify.home", {})
    key = (current_language(), request.args.get("lang") if request.args.get("lang") in LANGUAGES else None)
    if key not in cache:
        cache[key] = _home()[0].replace(forms.csrf_token(), _TOKEN_SLOT)
    return cache[key].replace(_TOKEN_SLOT, forms.csrf_token())


@bp.get("/check")
@limited(PAGE_CHECK)
def check():
    """The verdict for the number that called."""
    form = forms.CheckForm(request.args)
    phone = _read_number(form.number, phones.parse_checked) if form.validate() else None
    if phone is None:
        return _home(check_form=form, status=400)
    try:
        answer = services().checks.check(phone)
    except AreaCodeNeeded as exc:
        form.number.errors.append(_("%(number)s could be %(lines)s: please add the area code.", number=exc.typed,
                                    lines=_(" or ").join(exc.candidates)))
        return _home(check_form=form, status=400)
    return _number_page(answer), 503 if answer.verdict == v.UNAVAILABLE else 200


def _number_page(answer):
    facts = answer.facts
    impersonated = bool(facts) and answer.verdict == v.OFFICIAL and v.impersonated(facts)
    return render_template(
        "result_number.html", verdict=answer.verdict, tone=NUMBER_TONES[answer.verdict],
        headline=advice.headline(answer.verdict, current_language(), impersonated), impersonated=impersonated,
        shown=answer.shown, typed=answer.typed if answer.local else None, entry=facts.entry if facts else None,
        imitated=answer.imitated,
        reports_30d=facts.reporters_30d if facts else 0, advice=answer.advice[current_language()],
    )


@bp.post("/verify")
@limited(PAGE_VERIFY)
def verify_call():
    """Did the lender really call me? My own number and the code the caller gave."""
    form = forms.VerifyForm()
    valid = form.validate()
    phone = _read_number(form.phone, phones.normalise_mobile) if valid else None
    code = _read_code(form.code) if valid else None
    if phone is None or code is None:
        return _home(verify_form=form, status=400)
    answer = services().calls.verify(phone, code, channel="web")
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
    return _call_page(answer), {v.UNAVAILABLE: 503, v.LOCKED: 429}.get(answer.verdict, 200), headers


def _call_page(answer):
    # A locked verdict carries how long the lockout lasts: the page says until when.
    until = time.time() + answer.retry_after if answer.retry_after else None
    return render_template("result_call.html", verdict=answer.verdict, tone=CALL_TONES[answer.verdict],
                           headline=advice.headline(answer.verdict, current_language()), session=answer.session,
                           advice=answer.advice[current_language()], until=until)


def _number_error(exc):
    return {
        "empty": _("Please enter a phone number."),
        "letters": _("A phone number has digits only, no letters."),
        "too_long": _("That is too long to be a phone number."),
        "too_short": _("That is too short to be a phone number."),
        "not_a_number": _("That does not look like a phone number."),
        "invalid": _("That is not a valid phone number."),
        "not_mobile": _("Please enter a mobile phone number."),
    }[exc.code]


def _read_number(field, reader):
    try:
        return reader(field.data, services().settings.default_region)
    except phones.InvalidNumber as exc:
        field.errors.append(_number_error(exc))
        return None


def _read_code(field):
    errors = []
    code = fields.code({"code": field.data}, errors)
    if errors:
        field.errors.append(_("The code is the 6 digits the caller told you."))
    return code


@bp.get("/report")
def report_form():
    """Report a call or SMS."""
    return render_template("report.html", form=forms.ReportForm(number=request.args.get("number", "")[:40]))


@bp.post("/report")
def file_report():
    """File the report through the same operation as the API and SMS."""
    form = forms.ReportForm()
    if not form.validate():
        return render_template("report.html", form=form), 400
    try:
        reference, _when = services().intake.file(form.report_data(local_zone()), "web", Actor("public", request.remote_addr or ""),
                                                  limited=True, idempotency_key=form.once.data or None)
    except Invalid as exc:
        for field, message in exc.errors:
            target = getattr(form, field, None) or form.number
            target.errors = list(target.errors) + [_report_error(field, message)]
        return render_template("report.html", form=form), 400
    return redirect(url_for("web.report_done", reference=reference), code=303)


def _report_error(field, message):
    if field in ("number", "reporter_phone"):
        return _("That does not look like a phone number.")
    if field == "occurred_at" and message == TOO_EARLY:
        return _("Please give a time after 1 January 2000.")
    if field == "occurred_at":
        return _("Please give a time that is not in the future.")
    if field == "Idempotency-Key":  # the page was sent before with other answers, or tampered with
        return _("This form was already sent. Please open the report page again to send another report.")
    return labels.said(message)


@bp.get("/report/done/<reference>")
def report_done(reference):
    """Thank you, with the reference number."""
    if not services().intake.filed(reference):
        abort(404)
    return render_template("report_done.html", reference=reference)


@bp.get("/numbers")
def official_numbers():
    """The official numbers: active, inbound-only (we never call from them), retired with their date."""
    entries = services().numbers.all()
    return render_template(
        "numbers.html",
        calling=[e for e in entries if e["status"] == "active" and e["direction"] != "inbound_only"],
        inbound=[e for e in entries if e["status"] == "active" and e["direction"] == "inbound_only"],
        retired=[e for e in entries if e["status"] == "retired"],
    )


def page_context():
    """What every page shows: brand, hotline and SMS number in the page's language, the language switch."""
    brand = services().settings.brand_texts
    lang = current_language()
    return {
        "lang": lang,
        "brand_name": brand["brand"] if lang == "zh" else brand["brand_en"],
        "hotline": brand["hotline"],
        "hotline_tel": "".join(ch for ch in brand["hotline"] if ch.isdigit() or ch == "+"),
        "sms_number": brand["sms"],
        "switch_url": _switch_url,
    }


def _switch_url(lang):
    # Same page in the other language; a page that answered a POST goes back to the start (the
    # dashboard's, on a dashboard page).
    if request.method == "GET" and request.endpoint:
        # Query arguments that url_for reads itself (endpoint, _method, _external ...) or that name the
        # page's own view arguments are left out: a stranger's query must not break the page.
        args = {k: v for k, v in request.args.items() if k != "endpoint" and not k.startswith("_")
                and k not in (request.view_args or {})}
        return url_for(request.endpoint, **(request.view_args or {}), **{**args, "lang": lang})
    return url_for("dashboard.home" if request.blueprint == "dashboard" else "web.index", lang=lang)


def local_zone():
    """The zone people read and type times in (``VERIFY_TIMEZONE``)."""
    return times.zone(services().settings.timezone)


def nowrap_filter(text, *more):
    """``text`` escaped, with the hotline, the SMS number and ``more`` numbers in it kept on one line."""
    brand = services().settings.brand_texts
    html = escape(text)
    for number in {brand["hotline"], brand["sms"], *(m for m in more if m)}:
        html = html.replace(escape(number), Markup('<span class="tel">%s</span>') % number)
    return Markup(html)


def init_app(app):
    """The pages' context and the time filters of every page, the dashboard's included: ``local``
    (2026-11-29 14:05 (UTC+8)) and ``local_iso`` (2026-11-29T14:05:00+08:00, for ``<time datetime>``),
    from Unix seconds or a stored ISO time."""
    app.context_processor(page_context)
    app.add_template_filter(lambda value: times.local(value, local_zone()), "local")
    app.add_template_filter(lambda value: times.local_iso(value, local_zone()), "local_iso")
    app.add_template_filter(nowrap_filter, "nowrap")

"""The public pages: check a number, verify a call with its code, report a scam, official numbers.

Server-rendered, working without JavaScript; every text through the catalogs (verify/translations).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from verify import answers, fields, forms, phones, reporting
from verify import verdicts as v
from verify.errors import Invalid
from verify.i18n import _, current_language
from verify.registry import numbers
from verify.services import services

bp = Blueprint("web", __name__)

# Verdict -> how the result page looks: tone (colour class and icon) and headline.
NUMBER_TONES = {
    v.OFFICIAL: "caution", v.INBOUND_ONLY: "danger", v.RETIRED: "danger", v.LOOKALIKE: "danger",
    v.KNOWN_SCAM: "danger", v.REPORTED: "danger", v.UNKNOWN: "danger", v.UNAVAILABLE: "caution",
}
CALL_TONES = {v.GENUINE: "safe", v.NOT_VERIFIED: "danger", v.LOCKED: "danger", v.UNAVAILABLE: "caution"}


def _headline(verdict):
    return {
        v.OFFICIAL: _("This is an official number, but caller ID can be faked"),
        v.INBOUND_ONLY: _("Fake call: we never call from this number"),
        v.RETIRED: _("We no longer use this number"),
        v.LOOKALIKE: _("Fake: this number imitates one of ours"),
        v.KNOWN_SCAM: _("Confirmed scam number"),
        v.REPORTED: _("Reported by several people"),
        v.UNKNOWN: _("Not one of our numbers"),
        v.UNAVAILABLE: _("We cannot check right now"),
        v.GENUINE: _("Verified: this call is really from us"),
        v.NOT_VERIFIED: _("Not verified: hang up"),
        v.LOCKED: _("Too many wrong codes: hang up"),
    }[verdict]


@bp.get("/")
def index():
    """Is the lender really calling you? Check the number, or verify the call with its code.

    The page is the same for everyone who speaks the same language but for the CSRF token, so it
    is rendered once per language and process, and each visitor's token is put in.
    """
    lang = current_language()
    if set(request.args) - {"lang"}:
        return render_template("index.html", check_form=forms.CheckForm(request.args), verify_form=forms.VerifyForm())
    cache = current_app.extensions.setdefault("verify.home", {})
    key = (lang, request.args.get("lang"))
    if key not in cache:
        token = forms.csrf_token()
        html = render_template("index.html", check_form=forms.CheckForm(), verify_form=forms.VerifyForm())
        cache[key] = html.replace(token, _TOKEN_SLOT)
    return cache[key].replace(_TOKEN_SLOT, forms.csrf_token())


_TOKEN_SLOT = "\x00csrf\x00"


@bp.get("/check")
def check():
    """The verdict for the number that called."""
    svc = services()
    form = forms.CheckForm(request.args)
    if not form.validate():
        return render_template("index.html", check_form=form, verify_form=forms.VerifyForm()), 400
    try:
        phone = phones.parse_checked(form.number.data, svc.region)
    except phones.InvalidNumber as exc:
        form.number.errors.append(_number_error(exc))
        return render_template("index.html", check_form=form, verify_form=forms.VerifyForm()), 400
    answer = answers.for_number(svc, phone)
    facts = answer.facts
    return render_template(
        "result_number.html",
        verdict=answer.verdict,
        tone=NUMBER_TONES[answer.verdict],
        headline=_headline(answer.verdict),
        phone=phone,
        entry=facts.entry if facts else None,
        imitated=answer.imitated,
        reports_30d=facts.reporters_30d if facts else 0,
        advice=answer.advice[current_language()],
    ), 503 if answer.verdict == v.UNAVAILABLE else 200


@bp.post("/verify")
def verify_call():
    """Did the lender really call me? My own number and the code the caller gave."""
    svc = services()
    form = forms.VerifyForm()
    if not form.validate():
        return render_template("index.html", check_form=forms.CheckForm(), verify_form=form), 400
    phone = _field_number(form.phone, phones.normalise_mobile)
    code = _field_code(form.code)
    if phone is None or code is None:
        return render_template("index.html", check_form=forms.CheckForm(), verify_form=form), 400
    answer = answers.for_code(svc, phone, code, channel="web")
    response = render_template(
        "result_call.html",
        verdict=answer.verdict,
        tone=CALL_TONES[answer.verdict],
        headline=_headline(answer.verdict),
        session=answer.session,
        advice=answer.advice[current_language()],
    )
    status = {v.UNAVAILABLE: 503, v.LOCKED: 429}.get(answer.verdict, 200)
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
    return response, status, headers


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


def _field_number(field, reader):
    try:
        return reader(field.data, services().region)
    except phones.InvalidNumber as exc:
        field.errors.append(_number_error(exc))
        return None


def _field_code(field):
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
    """File the report through the same domain function as the API and SMS."""
    svc = services()
    form = forms.ReportForm()
    if not form.validate():
        return render_template("report.html", form=form), 400
    data = {
        "number": form.number.data,
        "channel": form.channel.data,
        "categories": form.categories.data or [],
        "text": form.text.data or "",
        "amount_lost": str(form.amount_lost.data) if form.amount_lost.data is not None else None,
        "reporter_phone": form.reporter_phone.data or None,
        "occurred_at": form.occurred_at.data.isoformat() if form.occurred_at.data else None,
    }
    try:
        reference, _when = reporting.file(svc, data, "web", client_ip=request.remote_addr)
    except Invalid as exc:
        for field, message in exc.errors:
            target = getattr(form, field, None) or form.number
            target.errors = list(target.errors) + [_report_error(field, message)]
        return render_template("report.html", form=form), 400
    return redirect(url_for("web.report_done", reference=reference), code=303)


def _report_error(field, message):
    if field in ("number", "reporter_phone"):
        return _("That does not look like a phone number.")
    if field == "occurred_at":
        return _("Please give a time that is not in the future.")
    return message


@bp.get("/report/done/<reference>")
def report_done(reference):
    """Thank you, with the reference number."""
    if not reference.startswith("R") or len(reference) > 20:
        abort(404)
    return render_template("report_done.html", reference=reference)


@bp.get("/numbers")
def official_numbers():
    """The official numbers: active, inbound-only (we never call from them), retired with their date."""
    svc = services()
    entries = numbers.all_entries(svc.store, svc.region)
    for entry in entries:
        entry["variant_displays"] = [phones.display(e164, svc.region) for e164 in entry["variants"]]
    return render_template(
        "numbers.html",
        calling=[e for e in entries if e["status"] == "active" and e["direction"] != "inbound_only"],
        inbound=[e for e in entries if e["status"] == "active" and e["direction"] == "inbound_only"],
        retired=[e for e in entries if e["status"] == "retired"],
    )


def page_context():
    """What every page shows: brand, hotline and SMS number in the page's language, the language switch."""
    svc = services()
    lang = current_language()
    return {
        "lang": lang,
        "brand_name": svc.brand["brand"] if lang == "zh" else svc.brand["brand_en"],
        "hotline": svc.brand["hotline"],
        "hotline_tel": "".join(ch for ch in svc.brand["hotline"] if ch.isdigit() or ch == "+"),
        "sms_number": svc.brand["sms"],
        "switch_url": _switch_url,
    }


def _switch_url(lang):
    # Same page in the other language; a page that answered a POST goes back to the start.
    if request.method == "GET" and request.endpoint:
        return url_for(request.endpoint, **(request.view_args or {}), **{**request.args.to_dict(), "lang": lang})
    return url_for("web.index", lang=lang)


def clock_filter(timestamp):
    """Render a Unix time as local time of day and date, for the result pages."""
    zone = ZoneInfo(current_app.config["VERIFY_TIMEZONE"])
    return dt.datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M")


def register(app):
    """Attach the pages, their context and filters to ``app``."""
    app.register_blueprint(bp)
    app.context_processor(page_context)
    app.add_template_filter(clock_filter, "clock")


def error_page(status):
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
    return render_template("error.html", title=title, message=message), status

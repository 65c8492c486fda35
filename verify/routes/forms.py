"""The public web forms, with CSRF protection. The only importer of flask_wtf and wtforms."""

import secrets

from flask_wtf import CSRFProtect, FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import (
    DecimalField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from verify.routes.i18n import _l
from verify.routes.labels import NAMES
from verify.services.keys import SCOPES
from verify.services.numbers import DIRECTIONS, PURPOSES
from verify.services.numbers import STATUSES as NUMBER_STATUSES
from verify.services.reports import CATEGORIES, MAX_TEXT

csrf = CSRFProtect()


def choices(*values):
    """Select options whose label is the value itself."""
    return [SelectChoice(value, value) for value in values]


def labelled_choices(pairs):
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class CheckForm(FlaskForm):
    """Check the number that called me (a GET form: the result page can be shared)."""

    class Meta:
        csrf = False  # read-only, and the result URL should be shareable

    number = StringField(_l("The number that called you"), validators=[DataRequired(_l("Please enter the number that called you."))])


class VerifyForm(FlaskForm):
    """Verify a call with the code the caller gave."""

    phone = StringField(_l("Your own mobile number"), validators=[DataRequired(_l("Please enter your own mobile number."))])
    code = StringField(_l("The 6-digit code the caller told you"), validators=[DataRequired(_l("Please enter the 6-digit code."))])


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes: one label per choice, no JavaScript."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


CATEGORY_LABELS = NAMES["category"]


class ReportForm(FlaskForm):
    """Report a call or SMS."""

    number = StringField(_l("The number that called or texted you"), validators=[DataRequired(_l("Please enter the number."))])
    channel = SelectField(
        _l("How did they contact you?"),
        choices=[SelectChoice("call", _l("A phone call")), SelectChoice("sms", _l("An SMS"))],
        default="call",
    )
    occurred_at = DateTimeLocalField(_l("When (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    categories = MultiCheckboxField(
        _l("What did they ask for?"), choices=[SelectChoice(key, CATEGORY_LABELS[key]) for key in CATEGORIES]
    )
    text = TextAreaField(_l("What happened (optional)"), validators=[Optional(), Length(max=MAX_TEXT, message=_l("At most 2000 characters, please."))])
    amount_lost = DecimalField(_l("Money lost, in yuan (optional)"), places=2, validators=[Optional(), NumberRange(min=0, message=_l("Please enter an amount of 0 or more."))])
    reporter_phone = StringField(_l("Your phone, if we may contact you (optional)"), validators=[Optional()])
    # Drawn when the form is shown and sent back with it: the report's Idempotency-Key, so a double
    # click or a resubmitted page files one report.
    once = HiddenField(default=lambda: secrets.token_urlsafe(16))

    def report_data(self, zone):
        """The form as the report's field names; the time typed is in ``zone`` (``VERIFY_TIMEZONE``)."""
        return {
            "number": self.number.data,
            "channel": self.channel.data,
            "categories": self.categories.data or [],
            "text": self.text.data or "",
            "amount_lost": str(self.amount_lost.data) if self.amount_lost.data is not None else None,
            "reporter_phone": self.reporter_phone.data or None,
            "occurred_at": self.occurred_at.data.replace(tzinfo=zone).isoformat() if self.occurred_at.data else None,
        }


class LoginForm(FlaskForm):
    """Staff login."""

    name = StringField(_l("User name"), validators=[DataRequired(_l("Enter your name."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class ReviewForm(FlaskForm):
    """Change a report's status or assignee, or add a note."""

    status = SelectField(_l("Status"))
    assignee = StringField(_l("Assigned to"), validators=[Optional(), Length(max=32)])
    note = TextAreaField(_l("Add a note"), validators=[Optional(), Length(max=MAX_TEXT)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class AgentSessionForm(FlaskForm):
    """Start a callback session from the agent console."""

    borrower = StringField(_l("Borrower's mobile number"), validators=[DataRequired(_l("Enter the borrower's number."))])
    caller = SelectField(_l("You will call from"))
    purpose = StringField(_l("Purpose of the call"), default="贷后回访", validators=[DataRequired(), Length(max=120)])


class DisplayNameForm(FlaskForm):
    """An admin changes the name borrowers are shown for an agent (masked)."""

    display_name = StringField(_l("Display name"), validators=[DataRequired(_l("Enter the name borrowers should see.")),
                                                               Length(max=32)])


class NumberForm(FlaskForm):
    """An official number, as the registry keeps it."""

    number = StringField(_l("Number"), validators=[DataRequired(_l("Enter the number."))])
    label_zh = StringField(_l("Label (Chinese)"), validators=[DataRequired(_l("Enter a label.")), Length(max=80)])
    label_en = StringField(_l("Label (English)"), validators=[DataRequired(_l("Enter a label.")), Length(max=80)])
    purpose = SelectField(_l("Purpose"), choices=[SelectChoice(p, NAMES["purpose"][p]) for p in PURPOSES])
    direction = SelectField(_l("Direction"), choices=[SelectChoice(d, NAMES["direction"][d]) for d in DIRECTIONS])
    status = SelectField(_l("Status"), choices=[SelectChoice(s, NAMES["number_status"][s]) for s in NUMBER_STATUSES],
                         default="active")
    retired_on = StringField(_l("Retired on (YYYY-MM-DD)"), validators=[Optional()])
    variants = StringField(_l("Display variants (separated by spaces)"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=500)])

    def entry_data(self):
        """The form as the registry's field names."""
        return {
            "number": self.number.data,
            "labels": {"zh": self.label_zh.data, "en": self.label_en.data},
            "purpose": self.purpose.data,
            "direction": self.direction.data,
            "status": self.status.data,
            "retired_on": self.retired_on.data or None,
            "variants": (self.variants.data or "").split(),
            "notes": self.notes.data or "",
        }


class KeyForm(FlaskForm):
    """A new API key."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Name the key after who uses it."))])
    scope = SelectField(_l("Scope"), choices=[SelectChoice(s, NAMES["scope"][s]) for s in SCOPES])


def csrf_token():
    """This visitor's CSRF token (the same one the forms render)."""
    return generate_csrf()


def init_app(app):
    """Turn on CSRF checks for every form post (the API and the Twilio webhook are exempted by their blueprints)."""
    csrf.init_app(app)


def exempt(blueprint):
    """No CSRF on ``blueprint`` (key-authenticated API, signed Twilio webhook)."""
    csrf.exempt(blueprint)



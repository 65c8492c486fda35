"""What staff read for the service's stored values (roles, review statuses, categories, a number's
purpose, direction and status, a key's scope, an audit entry's action) and for the messages services
raise, in the page's language. The stored values and the API stay English; only the pages translate them."""

from verify.errors import N_
from verify.routes.i18n import _, _l

# The phone number reader's messages (``phones.InvalidNumber``) reach the pages inside services'
# errors; ``verify.phones`` imports nothing of verify's, so they are marked for the catalogs here.
PHONE_MESSAGES = (
    N_("Please enter a phone number."), N_("That is too long to be a phone number."),
    N_("A phone number has digits only, no letters."), N_("That is too short to be a phone number."),
    N_("That does not look like a phone number."), N_("That is not a valid phone number."),
    N_("That is not a mobile phone number."),
)

NAMES = {
    "role": {"admin": _l("admin"), "support": _l("support"), "agent": _l("agent")},
    "report_status": {"new": _l("new"), "reviewing": _l("reviewing"), "confirmed_scam": _l("confirmed scam"),
                      "not_scam": _l("not a scam"), "duplicate": _l("duplicate")},
    "category": {
        "sms_code": _l("SMS or verification code"),
        "card_password": _l("Password or card details"),
        "transfer": _l("Transfer money"),
        "screen_share": _l("Install an app or share the screen"),
        "cancel_account": _l("Cancel a loan account or \u201cfix\u201d a credit record"),
        "threats": _l("Threats"),
        "police_court": _l("Claimed to be police or a court"),
        "other": _l("Something else"),
    },
    "purpose": {"callback": _l("callback"), "hotline": _l("hotline"), "sms": _l("SMS"),
                "collections": _l("collections"), "other": _l("other")},
    "direction": {"outbound": _l("calls out"), "inbound_only": _l("inbound only"), "both": _l("both ways")},
    "number_status": {"active": _l("active"), "retired": _l("retired")},
    "session_status": {"active": _l("active"), "confirmed": _l("confirmed"), "expired": _l("expired"),
                       "ended": _l("ended"), "locked": _l("locked")},
    "channel": {"call": _l("call"), "sms": _l("SMS"), "web": _l("web"), "api": _l("API")},
    "scope": {"sessions": _l("callback sessions"), "registry": _l("official numbers"), "reports": _l("reports"),
              "app": _l("lender's app (call status)")},
    "action": {
        "login": _l("logged in"), "login_failed": _l("failed login"), "logout": _l("logged out"),
        "report_status": _l("changed a report's status"), "report_assign": _l("assigned a report"),
        "report_note": _l("noted on a report"), "number_known_scam": _l("marked a number as known scam"),
        "number_cleared": _l("cleared a number's scam mark"), "registry_add": _l("added an official number"),
        "registry_update": _l("changed an official number"), "key_create": _l("created an API key"),
        "key_revoke": _l("revoked an API key"), "staff_create": _l("created a staff account"),
        "staff_disable": _l("disabled a staff account"), "staff_update": _l("changed a staff account"),
        "session_start": _l("started a callback session"), "session_replace": _l("replaced a session's code"),
        "session_end": _l("ended a callback session"), "purge": _l("purged old data"),
        "report_erase": _l("erased a report"), "contact_show": _l("showed a reporter's number"),
        "callback_request": _l("borrower asked for a call back"),
        "callback_number_show": _l("showed a borrower's number to call back"),
        "callback_done": _l("called a borrower back"),
    },
}


def named(value, kind):
    """``value`` (a stored value of ``kind``, a key of ``NAMES``) as staff read it; unknown values as they are."""
    label = NAMES[kind].get(value)
    return str(label) if label is not None else value


def pairs(kind, values):
    """(value, label) pairs for a select of ``values`` of ``kind``."""
    return [(value, named(value, kind)) for value in values]


def said(message, **values):
    """A message a service raised, in the page's language when the catalogs have it (those marked
    ``N_`` where they are written, and the phone number reader's), else as it was written; ``values``
    go into its ``%(name)s`` places (an ``errors.Said`` brings its own)."""
    template = getattr(message, "template", None)
    if template is not None:
        return _(template, **{**message.values, **values})
    return _(message, **values) if message else message


def said_all(exc):
    """Every message of a domain exception: each field's for ``Invalid``, else its one message."""
    errors = getattr(exc, "errors", None)
    return [said(message) for _field, message in errors] if errors is not None else [said(exc.template, **exc.values)]

"""Twilio's Messaging webhook: a borrower's text in, TwiML with the reply out."""

import logging

from flask import Blueprint, Response, abort, request

from verify.messaging import WebhookForm
from verify.services import services

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)


def public_url():
    """The URL Twilio called: from VERIFY_PUBLIC_URL, else the request (as ProxyFix rebuilt it)."""
    base = services().public_url
    if base is None:
        return request.url
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


@bp.post("/sms/inbound")
def inbound():
    """Check X-Twilio-Signature before anything else, then answer the text."""
    svc = services()
    form = WebhookForm.parse(request.get_data(as_text=True))
    if not svc.twilio.signature_valid(public_url(), form, request.headers.get("X-Twilio-Signature")):
        abort(403)
    reply = svc.answerer.answer(form.first("MessageSid"), form.first("From"), form.first("Body", ""))
    return Response(svc.twilio.reply(reply), mimetype="text/xml")

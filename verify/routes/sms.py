"""Twilio's Messaging webhook: a borrower's text in, TwiML with the reply out."""

import logging

from flask import Blueprint, Response, abort, request

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
    if not svc.twilio.signature_valid(public_url(), request.form, request.headers.get("X-Twilio-Signature")):
        abort(403)
    reply = svc.answerer.answer(request.form.get("MessageSid"), request.form.get("From"), request.form.get("Body", ""))
    return Response(svc.twilio.reply(reply), mimetype="text/xml")

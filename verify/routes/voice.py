"""Twilio's Voice webhook: each step of a call to the hotline in, TwiML with the next one out."""

from flask import Blueprint, Response, request

from verify.routes import pages, services
from verify.routes.sms import public_url

bp = Blueprint("voice", __name__)
pages.register(bp)


@bp.post("/voice/inbound")
def inbound():
    """Check X-Twilio-Signature before anything else (403 otherwise), as /sms/inbound does, then answer
    this step of the call."""
    twiml = services().voice.webhook(public_url(), request.get_data(as_text=True), request.headers.get("X-Twilio-Signature"))
    return Response(twiml, mimetype="text/xml")

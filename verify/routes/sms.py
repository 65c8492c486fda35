"""Twilio's Messaging webhook: a borrower's text in, TwiML with the reply out."""

from flask import Blueprint, Response, request

from verify.routes import pages, services

bp = Blueprint("sms", __name__)
pages.register(bp)


def public_url():
    """The URL Twilio called and signed, query included: from VERIFY_PUBLIC_URL, else the request (as
    ProxyFix rebuilt it). The voice webhook checks its signatures against the same."""
    base = (services().settings.public_url or "").rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


@bp.post("/sms/inbound")
def inbound():
    """Check X-Twilio-Signature before anything else (403 otherwise), then answer the text."""
    twiml = services().texts.webhook(public_url(), request.get_data(as_text=True), request.headers.get("X-Twilio-Signature"))
    return Response(twiml, mimetype="text/xml")

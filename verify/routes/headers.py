"""Security headers on every answer: no inline script, no framing, no sniffing, a careful referrer,
and in production HSTS (it is served over HTTPS, behind the TLS proxy)."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}


def init_app(app, production=False):
    """Add the headers to every answer (no view sets them itself), HSTS too in production."""
    # extend() appends without looking each name up first (setdefault raised and caught a KeyError
    # per header per answer).
    pairs = list({**HEADERS, **(HSTS if production else {})}.items())

    def add_security_headers(response):
        response.headers.extend(pairs)
        return response

    app.after_request(add_security_headers)

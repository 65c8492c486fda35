"""Probes for the orchestrator (alive; ready to answer) and the metrics."""

import hmac

from flask import Blueprint, abort, jsonify, request

from verify.routes import pages, services

bp = Blueprint("health", __name__)
pages.register(bp)


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.get("/metrics")
def metrics():
    """Prometheus metrics (spoofing reports per official number, reports by status), for the scraper
    that sends ``VERIFY_METRICS_TOKEN``; 404 for everyone else."""
    from verify.routes.metrics import exposition

    token = services().settings.metrics_token
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer" or not hmac.compare_digest(sent.encode(), token.encode()):
        abort(404)
    body, content_type = exposition(services().review)
    return body, 200, {"Content-Type": content_type}


@bp.get("/readyz")
def readyz():
    """Redis answers and keeps data safely (AOF on, no eviction); 503 otherwise."""
    state, problems = services().health.ready()
    return jsonify({"status": state, "problems": problems}), 200 if state == "ok" else 503

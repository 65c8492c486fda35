"""Probes for the orchestrator (alive; ready to answer) and the metrics."""

from flask import Blueprint, jsonify

from verify.routes import pages, services

bp = Blueprint("health", __name__)
pages.register(bp)


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.get("/metrics")
def metrics():
    """Prometheus metrics (spoofing reports per official number, reports by status). Keep it internal."""
    from verify.routes.metrics import exposition

    body, content_type = exposition(services().review)
    return body, 200, {"Content-Type": content_type}


@bp.get("/readyz")
def readyz():
    """Redis answers and keeps data safely (AOF on, no eviction); 503 otherwise."""
    state, problems = services().health.ready()
    return jsonify({"status": state, "problems": problems}), 200 if state == "ok" else 503

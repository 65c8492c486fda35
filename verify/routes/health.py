"""Probes for the orchestrator: alive, and ready to answer (store reachable and safe)."""

from flask import Blueprint, current_app, jsonify

from verify.errors import StoreUnavailable
from verify.registry import store as store_module
from verify.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.get("/metrics")
def metrics():
    """Prometheus metrics (spoofing reports per official number, reports by status). Keep it internal."""
    from verify.metrics import exposition

    body, content_type = exposition(services())
    return body, 200, {"Content-Type": content_type}


@bp.get("/readyz")
def readyz():
    """Redis answers and keeps data safely (AOF on, no eviction); 503 otherwise."""
    try:
        problems = store_module.durability_problems(services().store.redis)
    except StoreUnavailable:
        return jsonify({"status": "unavailable", "problems": ["Redis does not answer"]}), 503
    if problems and not current_app.config["VERIFY_ALLOW_UNSAFE_REDIS"]:
        return jsonify({"status": "unsafe", "problems": problems}), 503
    return jsonify({"status": "ok", "problems": problems or []})

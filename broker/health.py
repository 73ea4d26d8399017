"""Liveness and readiness probes. Readiness checks only our own parts, never upstream portals."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from .services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    s = services()
    checks = {"database": _check(lambda: _ping_db(s.engine)), "redis": _check(s.redis.ping)}
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _ping_db(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure means not ready; say which kind
        return f"error: {type(exc).__name__}"

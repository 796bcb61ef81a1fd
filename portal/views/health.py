"""`/healthz` for load balancers and monitoring: open to anyone, JSON, no secrets."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from portal.extensions import csrf
from portal.services import health

bp = Blueprint("health", __name__)
# Probes send no session or token; the page changes nothing.
csrf.exempt(bp)


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database, document storage and the scheduler are all well; 503 otherwise."""
    report = health.report()
    response = jsonify(report.as_json())
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if report.ok else 503

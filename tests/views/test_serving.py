"""Behind a proxy: TRUSTED_PROXIES makes the audit trail record the client's address, and
every request has an id, returned in X-Request-ID and written on each of its log lines."""

from __future__ import annotations

import copy
import io
import json
import logging

import pytest
from sqlalchemy import select

from portal import create_app, logs
from portal.extensions import db
from portal.models import AuditEvent
from tests.conftest import AuthActions

PROXY = "10.0.0.2"
CLIENT = "203.0.113.7"
FORWARDED = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": CLIENT}


@pytest.fixture
def behind_one_proxy(app, app_config):
    """The same portal and database, with TRUSTED_PROXIES=1 as a deployment behind nginx."""
    config = copy.copy(app_config)
    config.TRUSTED_PROXIES = 1
    trusted = create_app(config)
    yield trusted
    with trusted.app_context():
        db.engine.dispose()


def login_ip(client) -> str:
    client.environ_base.update(FORWARDED)
    AuthActions(client).login("admin@ssf.test")
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
    return event.ip


def test_without_trusted_proxies_the_audit_records_the_proxy(app, cast, client):
    assert login_ip(client) == PROXY


def test_with_trusted_proxies_the_audit_records_the_client(app, cast, behind_one_proxy):
    assert login_ip(behind_one_proxy.test_client()) == CLIENT


def test_every_response_carries_a_new_request_id(app, client):
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/login", headers={"X-Request-ID": "chosen-by-the-client"})
    assert len(first) == 32 and int(first, 16) >= 0
    # Not from a trusted proxy: the client's own id is not believed.
    assert second.headers["X-Request-ID"] not in (first, "chosen-by-the-client")


def test_a_trusted_proxys_request_id_is_kept(app, behind_one_proxy):
    client = behind_one_proxy.test_client()
    kept = client.get("/login", headers={"X-Request-ID": "nginx-3f2a9c1d0e"})
    assert kept.headers["X-Request-ID"] == "nginx-3f2a9c1d0e"
    odd = client.get("/login", headers={"X-Request-ID": 'x" {injected}'})
    assert len(odd.headers["X-Request-ID"]) == 32


def test_log_lines_of_a_request_are_json_with_its_id(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("portal.test_serving")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with app.test_request_context("/login"):
            app.preprocess_request()
            logger.info("first line")
            logger.warning("second line")
            response = app.process_response(app.make_response("ok"))
        logger.info("outside any request")
    finally:
        logger.removeHandler(handler)
    first, second, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "first line" and second["level"] == "WARNING"
    assert first["request_id"] == second["request_id"] == response.headers["X-Request-ID"]
    assert "request_id" not in outside

"""The webhook pages: a lead agency HMIS admin registers endpoints (the secret shown once),
deactivates, reactivates and deletes them, and sends a failed delivery again. Nobody else
gets in, and every form needs its CSRF token."""

from __future__ import annotations

import re

import pytest
from flask import g

from portal.extensions import db
from portal.models import WebhookDelivery, WebhookEndpoint
from portal.services import webhooks
from tests.conftest import csrf_token
from tests.services.helpers import REQ

URL = "https://hooks.example.org/portal"


def _post(client, url: str, data: dict, page_url: str = "/webhooks/"):
    page = client.get(page_url)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


@pytest.fixture
def admin(cast, auth):
    auth.login(cast.admin.email)
    return cast.admin


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(app, client, admin):
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/webhooks/"' in home

    answer = _post(
        client,
        "/webhooks/",
        {
            "url": URL,
            "description": "Our data warehouse",
            "events": ["agreement.effective", "separation.reported"],
        },
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    [secret] = re.findall(r'id="webhook-secret"[^>]*value="(whsec_[^"]+)"', page)
    [endpoint] = db.session.scalars(db.select(WebhookEndpoint)).all()
    assert (endpoint.url, endpoint.events) == (URL, ["agreement.effective", "separation.reported"])
    assert secret not in endpoint.secret_sealed

    again = client.get("/webhooks/").get_data(as_text=True)
    assert URL in again and "Our data warehouse" in again
    assert secret not in again and "webhook-secret" not in again


def test_a_bad_url_is_refused_with_its_reason(app, client, admin):
    answer = _post(
        client, "/webhooks/", {"url": "http://hooks.example.org/", "events": ["cure.lapsed"]}
    )
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "must use https://" in page and 'value="http://hooks.example.org/"' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEndpoint)) == 0


def test_every_form_needs_its_csrf_token(app, client, admin, cast):
    endpoint, _ = webhooks.create(
        cast.admin, url=URL, description="", events=["cure.lapsed"], request=REQ
    )
    client.post("/webhooks/", data={"url": URL, "events": ["cure.lapsed"]})
    client.post(f"/webhooks/{endpoint.id}/active", data={"active": "0"})
    client.post(f"/webhooks/{endpoint.id}/delete", data={})
    db.session.expire_all()
    assert [e.active for e in db.session.scalars(db.select(WebhookEndpoint))] == [True]


def test_deactivate_reactivate_and_delete(app, client, admin, cast):
    endpoint, _ = webhooks.create(
        cast.admin, url=URL, description="", events=["cure.lapsed"], request=REQ
    )
    _post(client, f"/webhooks/{endpoint.id}/active", {"active": "0"})
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).active is False
    assert "Reactivate" in client.get("/webhooks/").get_data(as_text=True)

    _post(client, f"/webhooks/{endpoint.id}/active", {"active": "1"})
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).active is True

    answer = _post(client, f"/webhooks/{endpoint.id}/delete", {})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id) is None
    assert _post(client, f"/webhooks/{endpoint.id}/delete", {}).status_code == 404


def test_a_failed_delivery_is_listed_and_sent_again(app, client, admin, cast):
    endpoint, _ = webhooks.create(
        cast.admin, url=URL, description="", events=["account.issued"], request=REQ
    )
    webhooks.emit("account.issued", {"access_request_id": 3})
    db.session.flush()
    row = db.session.scalars(db.select(WebhookDelivery)).one()
    row.status, row.attempts, row.last_status = "failed", 8, 502
    row.last_error = "DeliveryRefused: the endpoint answered HTTP 502"
    db.session.commit()

    page = client.get("/webhooks/deliveries").get_data(as_text=True)
    assert "HTTP 502" in page and "the endpoint answered HTTP 502" in page
    assert "Send again" in page and row.event_id in page

    answer = _post(
        client, f"/webhooks/deliveries/{row.id}/send-again", {}, page_url="/webhooks/deliveries"
    )
    assert answer.status_code == 302
    db.session.expire_all()
    row = db.session.get(WebhookDelivery, row.id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert "No delivery has failed" in client.get("/webhooks/deliveries").get_data(as_text=True)
    recent = client.get("/webhooks/deliveries?show=recent").get_data(as_text=True)
    assert "Waiting" in recent and row.event_id in recent


@pytest.mark.parametrize("who", ["ed", "officer", "signatory", "auditor"])
def test_nobody_else_manages_webhooks(app, client, auth, cast, who):
    person = getattr(cast, who)
    auth.login(person.email)
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/webhooks/"' not in home
    answer = client.get("/webhooks/", follow_redirects=True)
    assert "Only a lead agency HMIS admin manages webhooks." in answer.get_data(as_text=True)
    assert client.get("/webhooks/deliveries").status_code == 302
    g.pop("_login_user", None)
    token = csrf_token(client.get("/calendar/feed"))
    refused = client.post(
        "/webhooks/",
        data={"csrf_token": token, "url": URL, "events": ["cure.lapsed"]},
        follow_redirects=True,
    )
    assert "Only a lead agency HMIS admin manages webhooks." in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEndpoint)) == 0

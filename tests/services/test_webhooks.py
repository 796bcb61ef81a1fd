"""Webhooks: events are queued with the change, POSTed after commit by the scheduler's webhook
job, signed (HMAC-SHA256 over id, timestamp and body), retried with back-off, and "failed"
after the last attempt, when an admin can send them again. The receiver here is a real HTTP
server on 127.0.0.1 that checks each signature itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from portal import clock, jobs
from portal.extensions import db
from portal.models import AuditEvent, WebhookDelivery
from portal.services import webhooks
from portal.services.errors import Forbidden, ServiceError
from portal.services.unit import unit_of_work
from tests import factories
from tests.notices import give_default
from tests.services.helpers import REQ, effective
from tests.support.separations import staff


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    timestamp_ok: bool

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next of `answers` (then 200), recording what came and
    whether its signature verified under `secret`."""

    url: str
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


def _verify(secret: str, headers, body: bytes) -> tuple[bool, bool]:
    """What a receiver does: recompute the HMAC and compare in constant time, and refuse a
    timestamp more than five minutes from its own clock (a replay)."""
    event_id, stamp = headers.get("Webhook-Id", ""), headers.get("Webhook-Timestamp", "")
    signed = f"{event_id}.{stamp}.".encode() + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    signature_ok = hmac.compare_digest(expected, headers.get("Webhook-Signature", ""))
    timestamp_ok = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
    return signature_ok, timestamp_ok


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k: v for k, v in self.headers.items()}
            state.received.append(Received(headers, body, *_verify(state.secret, headers, body)))
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/portal"
    yield state
    server.shutdown()
    server.server_close()


def register(cast, receiver: Receiver, events: list[str]):
    endpoint, secret = webhooks.create(
        cast.admin, url=receiver.url, description="Test receiver", events=events, request=REQ
    )
    receiver.secret = secret
    return endpoint


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_an_event_is_signed_and_retried_after_a_failure(app, cast, receiver):
    register(cast, receiver, ["agreement.effective"])
    receiver.answers = [500]
    agreement = effective(cast)
    [row] = deliveries()
    assert (row.event, row.status, row.attempts) == ("agreement.effective", "pending", 0)
    assert not receiver.received  # nothing goes out before the scheduler's job runs

    assert jobs.deliver_webhooks(app) == 0  # the receiver answered 500
    [first] = receiver.received
    assert first.signature_ok and first.timestamp_ok
    [row] = deliveries()
    assert (row.status, row.attempts, row.last_status) == ("pending", 1, 500)
    assert "HTTP 500" in row.last_error

    assert jobs.deliver_webhooks(app) == 0  # not due yet: back-off
    assert len(receiver.received) == 1

    with time_machine.travel(clock.now() + timedelta(minutes=3)):
        assert jobs.deliver_webhooks(app) == 1
        second = receiver.received[1]
        assert second.signature_ok and second.timestamp_ok
        later = clock.now()
    [row] = deliveries()
    assert (row.status, row.attempts, row.last_status) == ("delivered", 2, 200)
    assert later - timedelta(minutes=1) <= row.delivered_at <= later
    # The same event both times (receivers drop duplicates by its id), signed afresh.
    assert first.headers["Webhook-Id"] == second.headers["Webhook-Id"] == row.event_id
    assert int(second.headers["Webhook-Timestamp"]) > int(first.headers["Webhook-Timestamp"])
    assert first.body == second.body
    event = second.event
    assert (event["id"], event["type"]) == (row.event_id, "agreement.effective")
    assert event["data"] == {
        "agreement_id": agreement.id,
        "reference": agreement.reference,
        "agency_id": cast.agency.id,
        "effective_on": agreement.effective_on.isoformat(),
    }
    assert second.headers["Content-Type"] == "application/json"


def test_a_signature_under_another_secret_does_not_verify(app, cast, receiver):
    register(cast, receiver, ["separation.reported"])
    receiver.secret = "whsec_not-the-endpoints-secret"
    webhooks.emit("separation.reported", {"separation_id": 1})
    db.session.commit()
    jobs.deliver_webhooks(app)
    [got] = receiver.received
    assert not got.signature_ok and got.timestamp_ok


def test_a_rolled_back_change_emits_nothing(app, cast, receiver):
    register(cast, receiver, ["separation.reported"])
    with pytest.raises(ServiceError), unit_of_work():
        assert webhooks.emit("separation.reported", {"separation_id": 1}) == 1
        raise ServiceError("The change failed after the event was queued.")
    assert deliveries() == []
    assert jobs.deliver_webhooks(app) == 0
    assert receiver.received == []


def test_a_real_separation_report_emits_its_event(app, cast, receiver):
    register(cast, receiver, ["separation.reported"])
    person = staff(cast.agency, "nia@hope.test")
    with time_machine.travel(clock.now() + timedelta(days=1)):
        from portal.services import separations
        from portal.services.timefmt import local_date

        row = separations.report(
            cast.ed,
            cast.agency.id,
            user_id=person.id,
            last_day=local_date(clock.now()),
            request=REQ,
        )
        assert jobs.deliver_webhooks(app) == 1
    [got] = receiver.received
    assert got.signature_ok
    data = got.event["data"]
    assert (data["reference"], data["user_id"], data["agency_id"]) == (
        row.reference,
        person.id,
        cast.agency.id,
    )
    assert "email" not in json.dumps(data) and person.email not in got.body.decode()


def test_notice_given_and_cure_lapsed_are_events(app, cast, receiver):
    register(cast, receiver, ["notice.given", "cure.lapsed"])
    agreement = factories.agreement(cast.agency)
    notice = give_default(cast.signatory, agreement)
    [given] = deliveries()
    assert given.event == "notice.given"
    assert given.payload["reference"] == notice.reference and given.payload["kind"] == "default"
    with time_machine.travel(notice.cure_ends_at + timedelta(minutes=1)):
        assert jobs.sweep(app)["webhooks_delivered"] == 2
    assert [r.event["type"] for r in receiver.received] == ["notice.given", "cure.lapsed"]
    assert receiver.received[1].event["data"]["notice_id"] == notice.id
    assert all(r.signature_ok for r in receiver.received)


def test_only_subscribed_active_endpoints_get_an_event(app, cast, receiver):
    listening = register(cast, receiver, ["separation.reported"])
    register(cast, receiver, ["account.issued"])
    webhooks.set_active(cast.admin, listening.id, False, request=REQ)
    assert webhooks.emit("separation.reported", {"separation_id": 1}) == 0
    webhooks.set_active(cast.admin, listening.id, True, request=REQ)
    assert webhooks.emit("separation.reported", {"separation_id": 1}) == 1
    db.session.commit()
    [row] = deliveries()
    assert row.endpoint_id == listening.id


def test_a_delivery_fails_after_the_last_attempt_and_can_be_sent_again(
    app, cast, receiver, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 2)
    register(cast, receiver, ["account.issued"])
    receiver.answers = [503, 503]
    webhooks.emit("account.issued", {"access_request_id": 7})
    db.session.commit()
    jobs.deliver_webhooks(app)
    with time_machine.travel(clock.now() + timedelta(hours=1)):
        assert jobs.deliver_webhooks(app) == 0
    with time_machine.travel(clock.now() + timedelta(days=2)):
        jobs.deliver_webhooks(app)  # given up: not tried again
    assert len(receiver.received) == 2
    [row] = deliveries()
    assert (row.status, row.attempts, row.last_status) == ("failed", 2, 503)

    [(failed, endpoint)] = webhooks.deliveries(cast.admin, failed_only=True)
    assert failed.id == row.id and endpoint.url == receiver.url

    webhooks.send_again(cast.admin, row.id, request=REQ)
    [row] = deliveries()
    assert (row.status, row.attempts) == ("pending", 0)
    assert webhooks.deliveries(cast.admin, failed_only=True) == []
    assert jobs.deliver_webhooks(app) == 1
    assert deliveries()[0].status == "delivered"
    assert receiver.received[2].signature_ok
    with pytest.raises(ServiceError, match="Only a failed delivery"):
        webhooks.send_again(cast.admin, row.id, request=REQ)
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert {"webhook.create", "webhook.send_again"} <= set(actions)


def test_a_dead_endpoint_does_not_hold_back_another(app, cast, receiver):
    dead = webhooks.create(
        cast.admin,
        url="http://127.0.0.1:9/nobody-listens",
        description="",
        events=["account.issued"],
        request=REQ,
    )[0]
    register(cast, receiver, ["account.issued"])
    webhooks.emit("account.issued", {"access_request_id": 1})
    webhooks.emit("account.issued", {"access_request_id": 2})
    db.session.commit()
    assert jobs.deliver_webhooks(app) == 2  # both to the live receiver
    rows = deliveries()
    dead_rows = [r for r in rows if r.endpoint_id == dead.id]
    # The dead endpoint was tried once in the pass; its second delivery kept its turn.
    assert sorted(r.attempts for r in dead_rows) == [0, 1]
    assert all(r.status == "pending" for r in dead_rows)
    assert "URLError" in next(r for r in dead_rows if r.attempts).last_error


def test_only_lead_agency_hmis_admins_manage_webhooks(app, cast, receiver):
    endpoint = register(cast, receiver, ["account.issued"])
    for person in (cast.ed, cast.officer, cast.signatory, cast.auditor):
        with pytest.raises(Forbidden):
            webhooks.create(
                person, url=receiver.url, description="", events=["account.issued"], request=REQ
            )
        with pytest.raises(Forbidden):
            webhooks.endpoints(person)
        with pytest.raises(Forbidden):
            webhooks.deliveries(person)
        with pytest.raises(Forbidden):
            webhooks.set_active(person, endpoint.id, False, request=REQ)
        with pytest.raises(Forbidden):
            webhooks.delete_endpoint(person, endpoint.id, request=REQ)
        with pytest.raises(Forbidden):
            webhooks.send_again(person, 1, request=REQ)
    assert [e.id for e in webhooks.endpoints(cast.admin)] == [endpoint.id]


def test_the_secret_is_shown_once_and_kept_sealed(app, cast, receiver):
    endpoint = register(cast, receiver, ["account.issued"])
    assert receiver.secret.startswith("whsec_") and len(receiver.secret) > 40
    assert receiver.secret not in endpoint.secret_sealed


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.org/in", "https://"),
        ("ftp://hooks.example.org/in", "https://"),
        ("https://user:pw@hooks.example.org/in", "credentials"),
        ("https:///in", "name a host"),
        ("", "Give the endpoint"),
    ],
)
def test_endpoint_urls_must_be_https_except_to_this_machine(app, cast, url, problem):
    with pytest.raises(ServiceError, match=problem):
        webhooks.create(cast.admin, url=url, description="", events=["cure.lapsed"], request=REQ)


def test_http_to_this_machine_is_refused_in_production(app, cast, monkeypatch):
    assert webhooks.check_url("http://localhost:8080/in") == "http://localhost:8080/in"
    assert webhooks.check_url("https://hooks.example.org/in") == "https://hooks.example.org/in"
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    with pytest.raises(ServiceError, match="https://"):
        webhooks.check_url("http://127.0.0.1:8080/in")


def test_events_must_be_chosen_from_the_list(app, cast, receiver):
    with pytest.raises(ServiceError, match="at least one event"):
        webhooks.create(cast.admin, url=receiver.url, description="", events=[], request=REQ)
    with pytest.raises(ServiceError, match="Not events"):
        webhooks.create(
            cast.admin, url=receiver.url, description="", events=["agency.deleted"], request=REQ
        )


def test_deleting_an_endpoint_removes_its_deliveries(app, cast, receiver):
    endpoint = register(cast, receiver, ["account.issued"])
    webhooks.emit("account.issued", {"access_request_id": 1})
    db.session.commit()
    webhooks.delete_endpoint(cast.admin, endpoint.id, request=REQ)
    assert deliveries() == [] and webhooks.endpoints(cast.admin) == []

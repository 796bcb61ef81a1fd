"""Webhooks: the lead agency's HMIS admins register endpoints, and events are POSTed to them,
signed, after the change that caused them commits.

`emit` writes one WebhookDelivery per active endpoint subscribed to the event, in the
caller's transaction: a change that rolls back sends nothing. The scheduler's webhook job
(portal.jobs.deliver_webhooks) sends due deliveries through the outbox machinery shared with
e-mail (portal.notify.delivery): at least once, retried with back-off, "failed" after
WEBHOOK_MAX_ATTEMPTS, when an admin may send it again.

Each delivery is a POST of JSON `{"id", "type", "created", "data"}` with the headers
`Webhook-Id` (the event id, the same on every attempt, so receivers can drop duplicates),
`Webhook-Timestamp` (unix seconds of this attempt) and
`Webhook-Signature: v1=<hex HMAC-SHA256 under the endpoint's secret of "{id}.{timestamp}.{body}">`.
A 2xx answer within WEBHOOK_TIMEOUT_SECONDS is delivered; anything else (a redirect
included: they are not followed) is a failed attempt.

The signing secret is shown once, at creation, and kept sealed under a key derived from
SECRET_KEY (portal.services.sealing): rotating SECRET_KEY makes endpoints unable to sign, so
their deliveries fail until the endpoint is registered again.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal import clock
from portal.extensions import db
from portal.models import User, WebhookDelivery, WebhookEndpoint
from portal.notify import delivery
from portal.services import audit, sealing
from portal.services.access import RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text

log = logging.getLogger("portal.webhooks")

# Every event an endpoint may subscribe to, with its words for the registration form.
EVENTS: dict[str, str] = {
    "agreement.effective": "An agreement took effect (both parties signed)",
    "amendment.effective": "An amendment to an agreement took effect (both parties signed)",
    "notice.given": "A notice of default or of termination was given",
    "cure.lapsed": "A cure period ended without an accepted cure",
    "account.issued": "An HMIS account was issued",
    "separation.reported": "A person's separation was reported",
}

MANAGERS = ("ssf_admin",)
_REFUSAL = "Only a lead agency HMIS admin manages webhooks."
_SEAL = b"portal webhook secret"
_LOOPBACK = {"localhost"}


def emit(event: str, payload: dict[str, Any], *, session: Session | None = None) -> int:
    """Queues `event` for every active endpoint subscribed to it, in the current transaction
    (`session`'s when given); returns how many deliveries it queued. Payloads carry
    references and ids, never more than the agency pages show."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    session = session or db.session
    now = clock.now()
    event_id = f"evt_{uuid.uuid4().hex}"
    queued = 0
    for endpoint in session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)
    ):
        if event not in (endpoint.events or []):
            continue
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event=event,
                event_id=event_id,
                payload=payload,
                created_at=now,
                next_attempt_at=now,
            )
        )
        queued += 1
    return queued


# -- managing endpoints (lead agency HMIS admins) --------------------------------------------


def may_manage(user: User) -> bool:
    return bool(user.is_authenticated and user.active and user.role in MANAGERS)


def endpoints(viewer: User) -> list[WebhookEndpoint]:
    require_role(viewer, *MANAGERS, message=_REFUSAL)
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def create(
    admin: User,
    *,
    url: str,
    description: str,
    events: list[str],
    request: RequestInfo,
) -> tuple[WebhookEndpoint, str]:
    """Registers an endpoint; returns it and its signing secret, which is shown this once."""
    require_role(admin, *MANAGERS, message=_REFUSAL)
    with unit_of_work():
        address = check_url(url)
        words = clean_text(description, "Description", max_len=200, required=False)
        chosen = [e for e in dict.fromkeys(events) if e]
        if not chosen:
            raise ServiceError("Choose at least one event to send to this endpoint.")
        unknown = [e for e in chosen if e not in EVENTS]
        if unknown:
            raise ServiceError(f"Not events the portal sends: {', '.join(unknown)}.")
        secret = "whsec_" + secrets.token_urlsafe(32)
        endpoint = WebhookEndpoint(
            url=address,
            description=words,
            secret_sealed=sealing.fernet(_SEAL).encrypt(secret.encode()).decode(),
            events=chosen,
            active=True,
            created_at=clock.now(),
            created_by_id=admin.id,
        )
        db.session.add(endpoint)
        db.session.flush()
        audit.record(
            admin,
            "webhook.create",
            endpoint,
            f"Registered webhook endpoint {address} for {', '.join(chosen)}",
            agency_id=admin.agency_id,
            after={"url": address, "events": chosen},
            request=request,
        )
    return endpoint, secret


def check_url(url: str) -> str:
    """The endpoint's address, or a ServiceError saying what is wrong with it. HTTPS always;
    plain HTTP only to this machine (a local relay), and never in production."""
    address = (url or "").strip()
    if not address:
        raise ServiceError("Give the endpoint's URL.")
    if len(address) > 500:
        raise ServiceError("The URL is too long (at most 500 characters).")
    parts = urlsplit(address)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ServiceError("The URL must start with https:// and name a host.")
    if parts.username or parts.password:
        raise ServiceError("Leave credentials out of the URL; deliveries are signed instead.")
    if parts.fragment:
        raise ServiceError("The URL cannot have a #fragment.")
    if parts.scheme == "http":
        if current_app.config.get("PORTAL_ENV") == "production":
            raise ServiceError("The URL must use https://.")
        if not _is_loopback(host):
            raise ServiceError(
                "The URL must use https:// (http:// only to 127.0.0.1 or localhost)."
            )
    return address


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def set_active(admin: User, endpoint_id: int, active: bool, *, request: RequestInfo):
    """Stops (or resumes) queueing events for the endpoint; queued deliveries still go."""
    require_role(admin, *MANAGERS, message=_REFUSAL)
    with unit_of_work():
        endpoint = _endpoint(endpoint_id)
        if endpoint.active != active:
            endpoint.active = active
            audit.record(
                admin,
                "webhook.reactivate" if active else "webhook.deactivate",
                endpoint,
                f"{'Reactivated' if active else 'Deactivated'} webhook endpoint {endpoint.url}",
                agency_id=admin.agency_id,
                after={"active": active},
                request=request,
            )
    return endpoint


def delete_endpoint(admin: User, endpoint_id: int, *, request: RequestInfo) -> None:
    """Removes the endpoint and its deliveries (sent or not); the audit log keeps the fact."""
    require_role(admin, *MANAGERS, message=_REFUSAL)
    with unit_of_work():
        endpoint = _endpoint(endpoint_id)
        audit.record(
            admin,
            "webhook.delete",
            endpoint,
            f"Deleted webhook endpoint {endpoint.url}",
            agency_id=admin.agency_id,
            before={"url": endpoint.url, "events": endpoint.events},
            request=request,
        )
        db.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        )
        db.session.delete(endpoint)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound()
    return endpoint


# -- deliveries -------------------------------------------------------------------------------


def deliveries(viewer: User, *, failed_only: bool = False, limit: int = 100):
    """Deliveries newest first, with their endpoints: the failed ones, or the recent ones."""
    require_role(viewer, *MANAGERS, message=_REFUSAL)
    query = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if failed_only:
        query = query.where(WebhookDelivery.status == "failed")
    return list(db.session.execute(query))


def send_again(admin: User, delivery_id: int, *, request: RequestInfo) -> WebhookDelivery:
    """Requeues a failed delivery with a fresh set of attempts; the scheduler sends it."""
    require_role(admin, *MANAGERS, message=_REFUSAL)
    with unit_of_work():
        row = db.session.get(WebhookDelivery, delivery_id)
        if row is None:
            raise NotFound()
        if row.status != "failed":
            raise ServiceError(
                "Only a failed delivery can be sent again; this one is " + row.status + "."
            )
        delivery.requeue(row)
        endpoint = db.session.get(WebhookEndpoint, row.endpoint_id)
        audit.record(
            admin,
            "webhook.send_again",
            row,
            f"Queued webhook {row.event} {row.event_id} to {endpoint.url} again",
            agency_id=admin.agency_id,
            request=request,
        )
    return row


def deliver_pending(limit: int = 50) -> int:
    """Sends due deliveries, one transaction each; returns how many were delivered."""
    return delivery.deliver_pending(_OUTBOX, limit)


# -- sending ------------------------------------------------------------------------------------


def body_of(row: WebhookDelivery) -> bytes:
    """The JSON body: the same bytes on every attempt."""
    document = {
        "id": row.event_id,
        "type": row.event,
        "created": row.created_at.isoformat().replace("+00:00", "Z"),
        "data": row.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256, under `secret`, of "{id}.{timestamp}.{body}"."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


class DeliveryRefused(Exception):
    """The endpoint answered, but not with 2xx."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not a delivery: following it would send the event somewhere
    # the admin never registered.
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _send(row: WebhookDelivery) -> None:
    endpoint = db.session.get(WebhookEndpoint, row.endpoint_id)
    try:
        secret = sealing.fernet(_SEAL).decrypt(endpoint.secret_sealed.encode()).decode()
    except InvalidToken:
        raise DeliveryRefused(
            "the endpoint's secret was sealed under another SECRET_KEY; register it again"
        ) from None
    body = body_of(row)
    timestamp = int(clock.now().timestamp())
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "HMIS-Partner-Portal-Webhooks/1",
            "Webhook-Id": row.event_id,
            "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": signature(secret, row.event_id, timestamp, body),
        },
    )
    row.last_status = None
    try:
        with _OPENER.open(request, timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"]) as answer:
            row.last_status = answer.status
    except urllib.error.HTTPError as exc:
        row.last_status = exc.code
        raise DeliveryRefused(f"the endpoint answered HTTP {exc.code}") from exc
    if not 200 <= row.last_status < 300:
        raise DeliveryRefused(f"the endpoint answered HTTP {row.last_status}")
    row.last_error = ""


def _mark_delivered(row: WebhookDelivery, at: datetime) -> None:
    row.status = "delivered"
    row.delivered_at = at


_OUTBOX = delivery.Outbox(
    model=WebhookDelivery,
    send=lambda row: _send(row),
    mark_done=_mark_delivered,
    max_attempts=lambda: current_app.config["WEBHOOK_MAX_ATTEMPTS"],
    describe=lambda row: f"Webhook {row.event} {row.event_id} (delivery {row.id})",
    log=log,
    # One dead endpoint holds only its own deliveries, not the others'.
    group=WebhookDelivery.endpoint_id,
)

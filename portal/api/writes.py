"""The API's writes: register an agency, send an agreement, request access, report a separation.

Each goes through the same service as its page, as the signed-in person (session or bearer
token), so the same rules and refusals apply. Each takes an Idempotency-Key
(portal/services/idempotency.py): a retry with the same key and body gets the first answer.
A body that fits the document but that the service refuses (a rule, a duplicate name) is a
422 with the service's words; a body that does not fit the document is a 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Response, request
from flask_login import current_user

from portal.api import bodies
from portal.api.bearer import writer
from portal.api.errors import ApiError
from portal.services import access_requests, agencies, agreements, idempotency, separations
from portal.services.errors import ServiceError
from portal.views.common import request_info

KEY_HEADER = "Idempotency-Key"
# Printable ASCII, as a header value must be: a UUID, or any id the caller keeps for a retry.
KEY_PATTERN = "^[!-~]{1,200}$"


def _key() -> str:
    key = request.headers.get(KEY_HEADER)
    if key is None:
        raise ApiError(
            400,
            f"Send an {KEY_HEADER} header (for example a new UUID) with every write, and "
            "the same one again when you retry it.",
            code="idempotency_key_missing",
        )
    if not re.fullmatch(KEY_PATTERN[1:-1], key):
        raise ApiError(
            400, f"{KEY_HEADER} must be 1 to 200 printable ASCII characters.", code="invalid_header"
        )
    return key


def _json(status: int, text: str, *, replayed: bool = False) -> Response:
    response = Response(text, status=status, mimetype="application/json")
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def once(schema: dict[str, Any], act: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    """Checks the key and the body, then acts once per key: 201 with what `act` made."""
    key = _key()
    data = bodies.read(schema)
    user = current_user._get_current_object()
    fingerprint = idempotency.fingerprint(request.method, request.path, data)
    try:
        stored = idempotency.claim(
            user, key, method=request.method, path=request.path, request_sha256=fingerprint
        )
    except ServiceError as err:
        raise ApiError(err.status, err.message, code=_code(err)) from None
    if stored is not None:
        return _json(stored.status, stored.body, replayed=True)
    try:
        made = act(data)
    except ServiceError as err:
        idempotency.release(user, key)
        status = 422 if err.status == 400 else err.status  # it fit the document; a rule refused
        raise ApiError(status, err.message, code=_code(err, status)) from None
    except BaseException:
        idempotency.release(user, key)
        raise
    text = json.dumps(made)
    idempotency.remember(user, key, idempotency.Answer(201, text))
    return _json(201, text)


def _code(err: ServiceError, status: int | None = None) -> str:
    if isinstance(err, idempotency.KeyReused):
        return "idempotency_key_reused"
    if isinstance(err, idempotency.InProgress):
        return "idempotency_key_in_progress"
    return {404: "not_found", 403: "forbidden", 409: "conflict"}.get(
        status or err.status, "refused"
    )


def _agency(agency) -> dict[str, Any]:
    return {
        "id": agency.id,
        "legal_name": agency.legal_name,
        "address": agency.address,
        "vawa_provider": agency.vawa_provider,
        "people": [
            {"id": p.id, "name": p.name, "email": p.email, "role": p.role}
            for p in sorted(agency.people, key=lambda p: p.id)
        ],
    }


def _separation(row, instant: Callable[[Any], str | None]) -> dict[str, Any]:
    return {
        "id": row.id,
        "reference": row.reference,
        "agency": {"id": row.agency_id, "legal_name": row.agency.legal_name},
        "user_id": row.user_id,
        "state": row.state,
        "last_day": row.last_day.isoformat(),
        "reported_at": instant(row.reported_at),
        "on_time": row.on_time,
    }


Shape = Callable[[Any], Any]


def register(api, *, agreement: Shape, access_request: Shape, instant: Shape) -> None:
    """Adds the write views to the API blueprint (called once, by portal/api/__init__.py,
    which hands over how it shows an agreement, an access request and an instant)."""

    @api.post("/agencies")
    @writer
    def register_agency():
        def act(data: dict[str, Any]) -> dict[str, Any]:
            agency = agencies.register(
                current_user,
                legal_name=data["legal_name"],
                address=data["address"],
                vawa_provider=data["vawa_provider"],
                executive_director=agencies.Contact(**data["executive_director"]),
                security_officer=agencies.Contact(**data["security_officer"]),
                request=request_info(),
            )
            return _agency(agency)

        return once(bodies.AGENCY, act)

    @api.post("/agreements")
    @writer
    def send_agreement():
        def act(data: dict[str, Any]) -> dict[str, Any]:
            # As on the pages: a draft from the current template, then certified and sent.
            draft = agreements.create(current_user, int(data["agency_id"]), request_info())
            try:
                sent = agreements.send(current_user, draft.id, request_info())
            except ServiceError as err:
                # Two units of work, as on the pages: the draft is kept, and says so.
                err.message += f" Draft {draft.reference} was kept: send it from its page."
                raise
            return agreement(sent)

        return once(bodies.AGREEMENT, act)

    @api.post("/access-requests")
    @writer
    def request_access():
        def act(data: dict[str, Any]) -> dict[str, Any]:
            staff = access_requests.NewStaff(
                name=data["name"],
                email=data["email"],
                job_title=data["job_title"],
                hmis_role=data["hmis_role"],
                programs=data["programs"],
            )
            row = access_requests.request_access(
                current_user, int(data["agency_id"]), staff, request=request_info()
            )
            return access_request(row)

        return once(bodies.ACCESS_REQUEST, act)

    @api.post("/separations")
    @writer
    def report_separation():
        def act(data: dict[str, Any]) -> dict[str, Any]:
            row = separations.report(
                current_user,
                int(data["agency_id"]),
                user_id=int(data["user_id"]),
                last_day=date.fromisoformat(data["last_day"]),
                note=data.get("note", ""),
                request=request_info(),
            )
            return _separation(row, instant)

        return once(bodies.SEPARATION, act)

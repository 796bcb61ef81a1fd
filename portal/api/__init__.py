"""JSON API, described by /api/v1/openapi.json (portal/api/openapi.py).

Signed in with the pages' session cookie or a personal API token (portal/api/bearer.py);
every answer goes through the same services, so authorization is the same as on the pages.
The writes are in portal/api/writes.py. Every error is JSON (portal/api/errors.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_login import current_user

from portal.api import bearer, campaigns, params, writes
from portal.api.errors import ApiError, error_response, from_api_error
from portal.api.openapi import document, query_names
from portal.documents import issuance
from portal.extensions import csrf
from portal.services import access_requests, agreements, gates, verification
from portal.services.errors import ServiceError
from workflows.access_request import ACCESS_REQUEST
from workflows.agreement import AGREEMENT

api = Blueprint("api", __name__, url_prefix="/api/v1")


@api.before_request
def _strict_query() -> None:
    # An unknown or repeated parameter is refused before anything else: `?page=2` on a
    # list that pages by cursor must not quietly answer the first page.
    params.only(*query_names(request.endpoint or "", request.method))


@api.before_request
def _signed_in_by_token() -> None:
    bearer.check()


_require_login = bearer.require_login


def _instant(value: datetime | None) -> str | None:
    """RFC 3339, with its offset: a time without one (pyHanko's, at times) is UTC."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _agreement(a) -> dict:
    return {
        "id": a.id,
        "reference": a.reference,
        "agency": {"id": a.agency_id, "legal_name": a.agency.legal_name},
        "state": a.state,
        "state_label": AGREEMENT.state(a.state).label,
        "template_version": a.template.version,
        "sent_at": _instant(a.sent_at),
        "agency_signed_at": _instant(a.agency_signed_at),
        "lead_signed_at": _instant(a.lead_signed_at),
        "effective_on": a.effective_on.isoformat() if a.effective_on else None,
        "documents": [
            {"version": v.seq, "label": v.label, "sha256": v.sha256, "size": v.size}
            for v in (a.document.versions if a.document else [])
        ],
    }


@api.get("/agreements")
def list_agreements():
    _require_login()
    # Keyset paging, as on the pages: ?after=<older> is the next page, newest first.
    after, limit = params.cursor("after"), params.limit()
    page = agreements.list_for(current_user, after=after, per_page=limit)

    def link(**cursor: int) -> str:
        return url_for("api.list_agreements", limit=limit, **cursor)

    return jsonify(
        items=[_agreement(a) for a in page.items],
        total=agreements.count_for(current_user),
        limit=limit,
        older=page.older,
        links={
            "self": link(after=after) if after is not None else link(),
            "first": link(),
            "next": link(after=page.older) if page.older is not None else None,
        },
    )


@api.get("/agreements/<int:agreement_id>")
def get_agreement(agreement_id: int):
    _require_login()
    return jsonify(_agreement(agreements.get(current_user, agreement_id)))


def _access_request(row) -> dict:
    checked = gates.for_request(row)
    return {
        "id": row.id,
        "reference": row.reference,
        "agency": {"id": row.agency_id, "legal_name": row.agency.legal_name},
        "name": row.name,
        "hmis_role": row.hmis_role,
        "state": row.state,
        "state_label": ACCESS_REQUEST.state(row.state).label,
        "requested_at": _instant(row.requested_at),
        "gates": [
            {"letter": g.letter, "title": g.title, "met": g.met, "why": g.why} for g in checked
        ],
        "may_issue": gates.all_met(checked) and row.state == "in_progress",
        "hmis_user_id": row.hmis_user_id or None,
        "issued_on": row.issued_on.isoformat() if row.issued_on else None,
    }


@api.get("/access-requests/<int:request_id>")
def get_access_request(request_id: int):
    _require_login()
    return jsonify(_access_request(access_requests.get(current_user, request_id)))


@api.post("/verify")
@csrf.exempt  # no session and no state change: anyone may check a file
def verify():
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "Send the PDF as multipart/form-data, in the field 'pdf'.")
    upload = request.files.get("pdf")
    if upload is None:
        raise ApiError(400, "Send the PDF as multipart field 'pdf'.")
    result = verification.verify(upload.read())
    report, judgement = result.report, result.judgement
    body = {
        "verdict": {
            "code": judgement.verdict.value,
            "valid": judgement.verdict.valid,
            "headline": judgement.headline,
            "explanation": judgement.explanation,
            "findings": list(judgement.findings),
        },
        "sha256": report.sha256,
        "error": report.error,
        "appended_bytes": report.appended_bytes,
        "signatures": [
            {
                "field": s.field_name,
                "signer": s.signer_name,
                "title": s.signer_title,
                "organization": s.signer_organization,
                "issuer": s.issuer,
                "certificate_sha256": s.cert_sha256,
                "issuer_certificate_sha256": s.issuer_sha256 or None,
                "document_timestamp": s.is_document_timestamp,
                "revision": s.revision,
                "signing_time": _instant(s.signing_time),
                "timestamp": _instant(s.timestamp_time),
                "intact": s.intact,
                "valid": s.valid,
                "trusted": s.trusted,
                # None for document timestamps and certificates not under the portal's root.
                "portal_record": issuance.issuance_words(s, result.issued),
                "issued_by_portal": (
                    None
                    if issuance.issuance_words(s, result.issued) is None
                    else s.cert_sha256 in result.issued
                ),
                "revocation": issuance.revocation_words(s, result.issued),
                "certification": s.is_certification,
                "modifications_permitted": s.modifications_permitted,
                "problems": s.problems,
            }
            for s in report.rows  # document timestamps too, marked as such
        ],
        "on_record": None,
    }
    if result.match:
        body["on_record"] = {
            "reference": result.match.reference,
            "status": result.match.status,
            "version": result.match.version.seq,
            "latest": result.match.is_latest,
        }
    return jsonify(body)


writes.register(api, agreement=_agreement, access_request=_access_request, instant=_instant)
campaigns.register(api, instant=_instant)


@api.errorhandler(ApiError)
def refused_by_api(err: ApiError) -> Response:
    return from_api_error(err)


@api.errorhandler(ServiceError)
def refused(err: ServiceError) -> Response:
    return error_response(err.status, message=err.message)


@api.get("/openapi.json", endpoint="openapi")
def openapi_document() -> Response:
    return jsonify(document(current_app.config["SESSION_COOKIE_NAME"]))

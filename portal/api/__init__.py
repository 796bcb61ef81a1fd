"""JSON API (read-only for now), described by /api/v1/openapi.json.

Uses the same session login as the pages; every answer goes through the same services,
so authorization is the same as on the pages.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from portal.documents import issuance
from portal.documents.verdict import Verdict
from portal.extensions import csrf
from portal.services import access_requests, agreements, gates, verification
from portal.services.errors import NotFound, ServiceError
from workflows.access_request import ACCESS_REQUEST
from workflows.agreement import AGREEMENT

api = Blueprint("api", __name__, url_prefix="/api/v1")

VERDICT_CODES = [verdict.value for verdict in Verdict]  # most serious first


def _require_login() -> None:
    if not current_user.is_authenticated:
        abort(401)


def _agreement(a) -> dict:
    return {
        "id": a.id,
        "reference": a.reference,
        "agency": {"id": a.agency_id, "legal_name": a.agency.legal_name},
        "state": a.state,
        "state_label": AGREEMENT.state(a.state).label,
        "template_version": a.template.version,
        "sent_at": a.sent_at.isoformat() if a.sent_at else None,
        "agency_signed_at": a.agency_signed_at.isoformat() if a.agency_signed_at else None,
        "lead_signed_at": a.lead_signed_at.isoformat() if a.lead_signed_at else None,
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
    page = agreements.list_for(current_user, after=request.args.get("after", None, type=int))
    return jsonify(items=[_agreement(a) for a in page.items], older=page.older)


@api.get("/agreements/<int:agreement_id>")
def get_agreement(agreement_id: int):
    _require_login()
    try:
        return jsonify(_agreement(agreements.get(current_user, agreement_id)))
    except NotFound:
        abort(404)


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
        "requested_at": row.requested_at.isoformat(),
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
    try:
        return jsonify(_access_request(access_requests.get(current_user, request_id)))
    except NotFound:
        abort(404)


@api.post("/verify")
@csrf.exempt  # no session and no state change: anyone may check a file
def verify():
    upload = request.files.get("pdf")
    if upload is None:
        return jsonify(error="Send the PDF as multipart field 'pdf'."), 400
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
                "signing_time": s.signing_time.isoformat() if s.signing_time else None,
                "timestamp": s.timestamp_time.isoformat() if s.timestamp_time else None,
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


@api.errorhandler(401)
def unauthorized(_err):
    return jsonify(error="Log in first."), 401


@api.errorhandler(404)
def not_found(_err):
    return jsonify(error="Not found."), 404


@api.errorhandler(ServiceError)
def refused(err: ServiceError):
    return jsonify(error=err.message), err.status


@api.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


_AGREEMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "reference": {"type": "string"},
        "state": {"type": "string", "enum": [s.name for s in AGREEMENT.states]},
        "state_label": {"type": "string"},
        "effective_on": {"type": ["string", "null"], "format": "date"},
    },
}

_ACCESS_REQUEST_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "reference": {"type": "string"},
        "state": {"type": "string", "enum": [s.name for s in ACCESS_REQUEST.states]},
        "gates": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "letter": {"type": "string"},
                    "title": {"type": "string"},
                    "met": {"type": "boolean"},
                    "why": {"type": "string"},
                },
            },
        },
        "may_issue": {"type": "boolean"},
    },
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "HMIS Partner Portal API", "version": "1"},
    "paths": {
        "/api/v1/agreements": {
            "get": {
                "summary": "Agreements the logged-in person may see",
                "parameters": [
                    {
                        "name": "after",
                        "in": "query",
                        "description": "The `older` of the page before: the next page",
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": {"description": "A page of agreements, newest first, and `older`"},
                    "401": {"description": "Not logged in"},
                },
            }
        },
        "/api/v1/agreements/{id}": {
            "get": {
                "summary": "One agreement, with its document versions",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "description": "The agreement",
                        "content": {"application/json": {"schema": _AGREEMENT_SCHEMA}},
                    },
                    "404": {"description": "Missing or not yours to see"},
                },
            }
        },
        "/api/v1/access-requests/{id}": {
            "get": {
                "summary": "One HMIS access request, with the four conditions of IV.B.4",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "description": "The request and whether each condition holds",
                        "content": {"application/json": {"schema": _ACCESS_REQUEST_SCHEMA}},
                    },
                    "401": {"description": "Not logged in"},
                    "404": {"description": "Missing or not yours to see"},
                },
            }
        },
        "/api/v1/verify": {
            "post": {
                "summary": "Check a PDF's signatures and whether it is a document on record",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"pdf": {"type": "string", "format": "binary"}},
                            }
                        }
                    }
                },
                "responses": {
                    "200": {
                        "description": (
                            "The verification report; verdict.code is one of "
                            + ", ".join(VERDICT_CODES)
                            + " (most serious first). unissued_certificate: a signature's "
                            "certificate chains to the portal's CA but the portal has no "
                            "record of issuing it, so it may be forged. Each signature's "
                            "issued_by_portal, portal_record (to whom and when the portal "
                            "issued its certificate) and revocation (revocations on record, "
                            "and whether each came after the signing time) are null where "
                            "not judged: document timestamps and certificates not under "
                            "the portal's root."
                        )
                    }
                },
            }
        },
    },
}

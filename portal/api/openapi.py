"""The OpenAPI 3.1 document of /api/v1: every operation, parameter, answer and error.

The suite runs schemathesis against it (tests/views/test_api_schema.py), so what is written
here is what the API does. The query parameters each operation takes are read from here
too (`query_names`): an unknown one is refused, never ignored.
"""

from __future__ import annotations

from typing import Any

from portal.api import openapi_writes
from portal.api.errors import CODES
from portal.api.params import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from portal.documents.verdict import Verdict
from workflows.access_request import ACCESS_REQUEST
from workflows.agreement import AGREEMENT

PREFIX = "/api/v1"
VERDICT_CODES = [verdict.value for verdict in Verdict]  # most serious first

ERROR_STATUSES = (400, 401, 403, 404, 405, 413, 415, 429, 500)
_WHEN = {
    400: "A parameter or the body is wrong; `error.parameter` names the query parameter",
    401: "No session, or it ended (idle, expired, logged out)",
    403: "Signed in, but sign-in is unfinished (a new password or second factor is due) or "
    "HMIS access has lapsed",
    404: "No such record, or not yours to see (the two are not told apart); also ids "
    f"outside 1..{MAX_ID}",
    405: "The path does not take this method (the Allow header lists those it does)",
    409: "The Idempotency-Key's first request is still in progress, or someone else changed "
    "the record first",
    413: "The body is larger than the portal accepts (MAX_UPLOAD_BYTES)",
    415: "The body is not in the media type the operation takes",
    422: "The body fits this document, but the portal's rules refuse it (the message says "
    "why), or the Idempotency-Key was used for another request",
    429: "Too many requests from this address (API_RATE_LIMIT)",
    500: "The portal failed; nothing was changed",
}

_INSTANT = {"type": ["string", "null"], "format": "date-time"}
_DAY = {"type": ["string", "null"], "format": "date"}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    required = [name for name in properties if name not in optional]
    return {"type": "object", "properties": properties, "required": required}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_AGENCY = _object({"id": _ID, "legal_name": {"type": "string"}})

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {
                        "type": "string",
                        "description": "Stable, for programs: "
                        + ", ".join(sorted({c for c, _ in CODES.values()} | {"invalid_parameter"}))
                        + ", sign_in_incomplete, access_lapsed, invalid_token, "
                        "read_only_token, csrf_failed, invalid_body, invalid_header, "
                        "idempotency_key_missing, idempotency_key_reused, "
                        "idempotency_key_in_progress",
                    },
                    "message": {"type": "string", "description": "Plain words, for people"},
                    "parameter": {
                        "type": "string",
                        "description": "The query parameter at fault (code invalid_parameter)",
                    },
                },
                optional=("parameter",),
            )
        }
    ),
    "Agreement": _object(
        {
            "id": _ID,
            "reference": {"type": "string"},
            "agency": _AGENCY,
            "state": {"type": "string", "enum": [s.name for s in AGREEMENT.states]},
            "state_label": {"type": "string"},
            "template_version": {"type": "string"},
            "sent_at": _INSTANT,
            "agency_signed_at": _INSTANT,
            "lead_signed_at": _INSTANT,
            "effective_on": _DAY,
            "documents": {
                "type": "array",
                "items": _object(
                    {
                        "version": {"type": "integer", "minimum": 1},
                        "label": {"type": "string"},
                        "sha256": _SHA256,
                        "size": {"type": "integer", "minimum": 0},
                    }
                ),
            },
        }
    ),
    "AgreementList": _object(
        {
            "items": {"type": "array", "items": _ref("Agreement")},
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "How many agreements you may see, over all pages",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "description": "The page size",
            },
            "older": {
                **_ID,
                "type": ["integer", "null"],
                "description": "The next page's cursor (its `after`); null on the last page",
            },
            "links": _object(
                {
                    "self": {"type": "string", "format": "uri-reference"},
                    "first": {"type": "string", "format": "uri-reference"},
                    "next": {
                        "type": ["string", "null"],
                        "format": "uri-reference",
                        "description": "The next (older) page; null on the last",
                    },
                }
            ),
        }
    ),
    "AccessRequest": _object(
        {
            "id": _ID,
            "reference": {"type": "string"},
            "agency": _AGENCY,
            "name": {"type": "string"},
            "hmis_role": {"type": "string"},
            "state": {"type": "string", "enum": [s.name for s in ACCESS_REQUEST.states]},
            "state_label": {"type": "string"},
            "requested_at": {"type": "string", "format": "date-time"},
            "gates": {
                "type": "array",
                "items": _object(
                    {
                        "letter": {"type": "string"},
                        "title": {"type": "string"},
                        "met": {"type": "boolean"},
                        "why": {"type": "string"},
                    }
                ),
            },
            "may_issue": {"type": "boolean"},
            "hmis_user_id": {"type": ["string", "null"]},
            "issued_on": _DAY,
        }
    ),
    "Verification": _object(
        {
            "verdict": _object(
                {
                    "code": {"type": "string", "enum": VERDICT_CODES},
                    "valid": {"type": "boolean"},
                    "headline": {"type": "string"},
                    "explanation": {"type": "string"},
                    "findings": {"type": "array", "items": {"type": "string"}},
                }
            ),
            "sha256": _SHA256,
            "error": {"type": ["string", "null"]},
            "appended_bytes": {"type": "integer", "minimum": 0},
            "signatures": {"type": "array", "items": _ref("Signature")},
            "on_record": {
                "type": ["object", "null"],
                "properties": {
                    "reference": {"type": "string"},
                    "status": {"type": "string"},
                    "version": {"type": "integer"},
                    "latest": {"type": "boolean"},
                },
            },
        }
    ),
    "Signature": _object(
        {
            "field": {"type": "string"},
            "signer": {"type": "string"},
            "title": {"type": "string"},
            "organization": {"type": "string"},
            "issuer": {"type": "string"},
            "certificate_sha256": {"type": "string"},
            "issuer_certificate_sha256": {"type": ["string", "null"]},
            "document_timestamp": {"type": "boolean"},
            "revision": {"type": "integer", "minimum": 1},
            "signing_time": _INSTANT,
            "timestamp": _INSTANT,
            "intact": {"type": "boolean"},
            "valid": {"type": "boolean"},
            "trusted": {"type": "boolean"},
            "portal_record": {"type": ["string", "null"]},
            "issued_by_portal": {"type": ["boolean", "null"]},
            "revocation": {"type": ["string", "null"]},
            "certification": {"type": "boolean"},
            "modifications_permitted": {"type": "boolean"},
            "problems": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "Document": {"type": "object", "description": "This OpenAPI document"},
}

_VERIFY_WORDS = (
    "The verification report; verdict.code is one of "
    + ", ".join(VERDICT_CODES)
    + " (most serious first). unissued_certificate: a signature's certificate chains to the "
    "portal's CA but the portal has no record of issuing it, so it may be forged. Each "
    "signature's issued_by_portal, portal_record (to whom and when the portal issued its "
    "certificate) and revocation (revocations on record, and whether each came after the "
    "signing time) are null where not judged: document timestamps and certificates not under "
    "the portal's root."
)

_SESSION = openapi_writes.SIGNED_IN  # the session cookie, or a bearer token
_ANYONE: list[dict[str, list[str]]] = []  # no sign-in


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


_ID_PATH = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": _ID,
    "description": f"The record's id (1 to {MAX_ID}; others are 404)",
}


def _operation(
    summary: str,
    ok: str,
    schema: str,
    *,
    security: list[dict[str, list[str]]],
    parameters: tuple[dict[str, Any], ...] = (),
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": ok, "content": {"application/json": {"schema": _ref(schema)}}}
    }
    for status in ERROR_STATUSES:
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    operation: dict[str, Any] = {
        "summary": summary,
        "security": security,
        "parameters": list(parameters),
        "responses": responses,
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


PATHS: dict[str, Any] = {
    f"{PREFIX}/agreements": {
        "get": _operation(
            "Agreements you may see, newest first, a page at a time",
            "A page of agreements, with the total and the links to the pages beside it",
            "AgreementList",
            security=_SESSION,
            parameters=(
                _query(
                    "after",
                    _ID,
                    "Keyset cursor: the page after the row of this id (the `older` of the "
                    "page before; `links.next` carries it)",
                ),
                _query(
                    "limit",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },  # fmt: skip
                    "The page size",
                ),
            ),
        )
    },
    f"{PREFIX}/agreements/{{id}}": {
        "get": _operation(
            "One agreement, with its document versions",
            "The agreement",
            "Agreement",
            security=_SESSION,
            parameters=(_ID_PATH,),
        )
    },
    f"{PREFIX}/access-requests/{{id}}": {
        "get": _operation(
            "One HMIS access request, with the four conditions of IV.B.4",
            "The request and whether each condition holds",
            "AccessRequest",
            security=_SESSION,
            parameters=(_ID_PATH,),
        )
    },
    f"{PREFIX}/verify": {
        "post": _operation(
            "Check a PDF's signatures and whether it is a document on record (no sign-in)",
            _VERIFY_WORDS,
            "Verification",
            security=_ANYONE,
            body={
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": _object(
                            {"pdf": {"type": "string", "format": "binary"}},
                        )
                    }
                },
            },
        )
    },
    f"{PREFIX}/openapi.json": {
        "get": _operation("This document", "The OpenAPI document", "Document", security=_ANYONE)
    },
}

SCHEMAS.update(openapi_writes.SCHEMAS)
for _path, _item in openapi_writes.PATHS.items():
    PATHS.setdefault(_path, {}).update(_item)

# Which operation each view is, for the query parameters it takes.
ENDPOINT_PATHS = {
    "api.list_agreements": f"{PREFIX}/agreements",
    "api.get_agreement": f"{PREFIX}/agreements/{{id}}",
    "api.get_access_request": f"{PREFIX}/access-requests/{{id}}",
    "api.verify": f"{PREFIX}/verify",
    "api.openapi": f"{PREFIX}/openapi.json",
    **openapi_writes.ENDPOINT_PATHS,
}


def query_names(endpoint: str, method: str) -> tuple[str, ...]:
    operation = PATHS.get(ENDPOINT_PATHS.get(endpoint, ""), {}).get(method.lower(), {})
    return tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")


def document(session_cookie: str) -> dict[str, Any]:
    """The document, naming the session cookie as this deployment calls it."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "HMIS Partner Portal API",
            "version": "1",
            "description": (
                "Read agreements and access requests, register agencies, send agreements, "
                "request HMIS access and report separations with the same rights as on the "
                "pages, and check a PDF's signatures. Every error is JSON: "
                '`{"error": {"code": "...", "message": "..."}}`.'
            ),
        },
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": session_cookie,
                    "description": (
                        "The portal's session cookie: sign in at /login (password, then the "
                        "second factor where required) and send the cookie it sets. The "
                        "session ends after SESSION_IDLE_MINUTES without a request, "
                        "SESSION_MAX_HOURS after sign-in, and at logout."
                    ),
                },
                "bearer": openapi_writes.BEARER_SCHEME,
            },
            "schemas": SCHEMAS,
            "responses": {
                f"E{status}": {
                    "description": _WHEN[status],
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for status in sorted(_WHEN)
            },
        },
    }

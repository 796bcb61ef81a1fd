"""The API's writes in the OpenAPI document: bodies (portal/api/bodies.py), the
Idempotency-Key header, and every answer. Merged into the document by portal/api/openapi.py.
"""

from __future__ import annotations

from typing import Any

from portal.api import bodies
from portal.api.params import MAX_ID

PREFIX = "/api/v1"
WRITE_ERRORS = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500)
# Either way of signing in; with the session, a page's CSRF token in X-CSRFToken as well.
SIGNED_IN = [{"session": []}, {"bearer": []}]

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "hpp_…",
    "description": (
        "A personal API token (Sign-in security > API tokens), sent as "
        "`Authorization: Bearer hpp_…`. It acts as its owner, with their rights; a read "
        "token cannot write. Revoked, expired and unknown tokens are a 401, and so is a "
        "request that sends both a token and the session cookie. With the session cookie, "
        "writes also need the CSRF token of a portal page in the X-CSRFToken header; with "
        "a token they do not."
    ),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


SCHEMAS: dict[str, Any] = {
    "NewAgency": bodies.AGENCY,
    "NewAgreement": bodies.AGREEMENT,
    "NewAccessRequest": bodies.ACCESS_REQUEST,
    "NewSeparation": bodies.SEPARATION,
    "NewCampaign": bodies.CAMPAIGN,
    "Agency": _object(
        {
            "id": _ID,
            "legal_name": {"type": "string"},
            "address": {"type": "string"},
            "vawa_provider": {"type": "boolean"},
            "people": {
                "type": "array",
                "items": _object(
                    {
                        "id": _ID,
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "role": {"type": "string"},
                    }
                ),
            },
        }
    ),
    "Separation": _object(
        {
            "id": _ID,
            "reference": {"type": "string"},
            "agency": _object({"id": _ID, "legal_name": {"type": "string"}}),
            "user_id": _ID,
            "state": {"type": "string"},
            "last_day": {"type": "string", "format": "date"},
            "reported_at": {"type": "string", "format": "date-time"},
            "on_time": {"type": "boolean"},
        }
    ),
}

_INSTANT = {"type": ["string", "null"], "format": "date-time"}
SCHEMAS["Campaign"] = _object(
    {
        "id": _ID,
        "reference": {"type": "string"},
        "state": {"type": "string"},
        "state_label": {"type": "string"},
        "template_version": {"type": "string"},
        "due_on": {"type": "string", "format": "date"},
        "deadline_at": {"type": "string", "format": "date-time"},
        "deadline_rule": {"type": "string"},
        "note": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "closed_at": _INSTANT,
        "closed_reason": {"type": "string"},
        "totals": {
            "type": "array",
            "items": _object({"outcome": {"type": "string"}, "count": {"type": "integer"}}),
        },
        # An agency's people see their own agency's row only.
        "agencies": {
            "type": "array",
            "items": _object(
                {
                    "agency": _object({"id": _ID, "legal_name": {"type": "string"}}),
                    "replaces": {
                        "type": ["object", "null"],
                        "properties": {
                            "id": _ID,
                            "reference": {"type": "string"},
                            "template_version": {"type": "string"},
                        },
                    },
                    "agreement": _object(
                        {
                            "id": _ID,
                            "reference": {"type": "string"},
                            "state": {"type": "string"},
                            "state_label": {"type": "string"},
                        }
                    ),
                    "sent_at": _INSTANT,
                    "opened_at": _INSTANT,
                    "signed_at": _INSTANT,
                    "countersigned_at": _INSTANT,
                    "days_waiting": {"type": ["integer", "null"], "minimum": 0},
                }
            ),
        },
    }
)

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]{1,200}$"},
    "description": (
        "A key of your choosing (a new UUID, say) for this one write. Send the same key with "
        "the same body to retry: you get the first answer again (header "
        "Idempotent-Replayed: true) and nothing is done twice. The same key with another "
        "path or body is a 422; while the first request with the key runs, a 409. Only "
        "successes are remembered: a refused request changed nothing and may be retried."
    ),
}


def _write(summary: str, done: str, body: str, result: str, who: str) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "201": {
            "description": done,
            "headers": {
                "Idempotent-Replayed": {
                    "description": "true when this is the stored answer to an earlier request",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
            "content": {"application/json": {"schema": _ref(result)}},
        }
    }
    for status in WRITE_ERRORS:
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    return {
        "summary": summary,
        "description": f"{who} Needs a write token, or the session and its CSRF token.",
        "security": SIGNED_IN,
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        },
        "responses": responses,
    }


PATHS: dict[str, Any] = {
    f"{PREFIX}/agencies": {
        "post": _write(
            "Register a partner agency, its executive director and security officer",
            "The agency registered; the security officer is invited by e-mail",
            "NewAgency",
            "Agency",
            "A lead agency HMIS admin only.",
        )
    },
    f"{PREFIX}/agreements": {
        "post": _write(
            "Send the partner agency agreement to an agency for signature",
            "The agreement, certified by the lead agency and sent to the executive director",
            "NewAgreement",
            "Agreement",
            "A lead agency HMIS admin only; the agency must have no open agreement.",
        )
    },
    f"{PREFIX}/access-requests": {
        "post": _write(
            "Request HMIS access for a staff member of your agency (IV.B.4)",
            "The request, with its conditions (an open request for the same person and "
            "requester is returned as it is)",
            "NewAccessRequest",
            "AccessRequest",
            "The agency's executive director or security officer, for their own agency, "
            "with an agreement in effect.",
        )
    },
    f"{PREFIX}/separations": {
        "post": _write(
            "Report that a person left the agency: their access ends at once",
            "The separation report",
            "NewSeparation",
            "Separation",
            "The agency's executive director or security officer (a lead agency HMIS admin "
            "for the lead agency's staff), for their own agency.",
        )
    },
}

# A read of this module's records: the same errors as the document's other reads.
READ_ERRORS = (400, 401, 403, 404, 405, 413, 415, 429, 500)
PATHS[f"{PREFIX}/campaigns"] = {
    "post": _write(
        "Start a re-signing campaign: the new agreement version, sent to each chosen agency",
        "The campaign, with each agency's new agreement, certified and sent for signature",
        "NewCampaign",
        "Campaign",
        "A lead agency HMIS admin only; each agency must have an agreement in effect on an "
        "older version and nothing in the way (an agreement already on its way, an open "
        "remedy).",
    )
}
PATHS[f"{PREFIX}/campaigns/{{id}}"] = {
    "get": {
        "summary": "One re-signing campaign, with each agency's progress",
        "security": SIGNED_IN,
        "parameters": [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": _ID,
                "description": f"The record's id (1 to {MAX_ID}; others are 404)",
            }
        ],
        "responses": {
            "200": {
                "description": "The campaign (for an agency's people: with their own row only)",
                "content": {"application/json": {"schema": _ref("Campaign")}},
            },
            **{str(s): {"$ref": f"#/components/responses/E{s}"} for s in READ_ERRORS},
        },
    }
}

ENDPOINT_PATHS = {
    "api.register_agency": f"{PREFIX}/agencies",
    "api.send_agreement": f"{PREFIX}/agreements",
    "api.request_access": f"{PREFIX}/access-requests",
    "api.report_separation": f"{PREFIX}/separations",
    "api.start_campaign": f"{PREFIX}/campaigns",
    "api.get_campaign": f"{PREFIX}/campaigns/{{id}}",
}

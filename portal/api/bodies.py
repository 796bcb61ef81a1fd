"""The JSON bodies of the API's writes: one schema each, used both by the OpenAPI document
and to check every request, so what the document promises is what is refused or accepted.

Only the JSON Schema the bodies use is checked here (object, array, string, integer,
boolean, required, additionalProperties, lengths, item counts, bounds, enum, pattern, format
"date"). A body that fits its schema may still be refused by the service's own rules: that
is a 422.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import request

from portal.api.errors import ApiError
from portal.api.params import MAX_ID
from portal.services.hmis_roles import HMIS_ROLES

# Not only blanks. Spelled out: \s is not the same set in Python and in ECMA-262 regexes.
_TEXT = "[^ \\t\\n\\r\\f\\v]"
_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def text(max_length: int, description: str, *, required: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if required:
        schema |= {"minLength": 1, "pattern": _TEXT}
    return schema | {"description": description}


def body(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_CONTACT = body(
    {
        "name": text(200, "Full name"),
        "title": text(200, "Job title"),
        "email": {"type": "string", "format": "email", "maxLength": 254, "minLength": 3},
    }
)

AGENCY = body(
    {
        "legal_name": text(200, "The agency's legal name (unique, case-insensitively)"),
        "address": text(1000, "Its postal address"),
        "vawa_provider": {
            "type": "boolean",
            "description": "A victim service provider under VAWA may not be a partner (III.A)",
        },
        "executive_director": _CONTACT,
        "security_officer": _CONTACT,
    }
)
AGREEMENT = body({"agency_id": ID | {"description": "The agency to send the agreement to"}})
ACCESS_REQUEST = body(
    {
        "agency_id": ID | {"description": "Your own agency"},
        "name": text(200, "The staff member's full name"),
        "email": {"type": "string", "format": "email", "maxLength": 254, "minLength": 3},
        "job_title": text(200, "Their job title"),
        "hmis_role": {"type": "string", "enum": sorted(HMIS_ROLES)},
        "programs": text(2000, "The programs they will enter data for"),
    }
)
SEPARATION = body(
    {
        "agency_id": ID | {"description": "Your own agency"},
        "user_id": ID | {"description": "The person who left (a portal user of the agency)"},
        "last_day": {
            "type": "string",
            "format": "date",
            "pattern": _DATE,
            "description": "Their last day (today or earlier)",
        },
        "note": text(4000, "Anything the lead agency should know", required=False),
    },
    optional=("note",),
)
CAMPAIGN = body(
    {
        "template_version": text(
            40, "The Partner Agency Agreement version to sign (default: the current one)"
        ),
        "agency_ids": {
            "type": "array",
            "items": ID,
            "minItems": 1,
            "maxItems": 1000,
            "description": "The agencies to include (default: every eligible agency: its "
            "agreement in effect is on an older version, nothing stands in the way)",
        },
        "due_on": {
            "type": "string",
            "format": "date",
            "pattern": _DATE,
            "description": "The last day to sign, in the lead agency's time zone (default: "
            "today plus SIGNATURE_REQUEST_DAYS); after today, within a year",
        },
        "note": text(4000, "For the record: why the agreement changed", required=False),
    },
    optional=("template_version", "agency_ids", "due_on", "note"),
)


def read(schema: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON body, checked against `schema`; a 415 or a 400 saying what is wrong."""
    if request.mimetype != "application/json":
        raise ApiError(415, "Send the body as application/json.")
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        raise ApiError(400, "The body is not valid JSON.", code="invalid_body") from None
    _check(schema, data, "body")
    return data


def _refuse(where: str, words: str) -> ApiError:
    return ApiError(400, f"{where}: {words}", code="invalid_body")


def _check(schema: dict[str, Any], value: Any, where: str) -> None:
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            raise _refuse(where, "must be a JSON object.")
        for name in schema["required"]:
            if name not in value:
                raise _refuse(f"{where}.{name}", "is required.")
        for name, item in value.items():
            if name not in schema["properties"]:
                raise _refuse(f"{where}.{name}", "is not a field of this body.")
            _check(schema["properties"][name], item, f"{where}.{name}")
    elif kind == "array":
        if not isinstance(value, list):
            raise _refuse(where, "must be a JSON array.")
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            raise _refuse(where, f"must hold {schema['minItems']} to {schema['maxItems']} items.")
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{where}[{index}]")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _refuse(where, "must be true or false.")
    elif kind == "integer":
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise _refuse(where, "must be a whole number.")
        if not schema["minimum"] <= value <= schema["maximum"]:
            raise _refuse(where, f"must be from {schema['minimum']} to {schema['maximum']}.")
    elif kind == "string":
        _check_string(schema, value, where)


def _check_string(schema: dict[str, Any], value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise _refuse(where, "must be a string.")
    if any("\ud800" <= c <= "\udfff" for c in value):
        raise _refuse(where, "holds a lone surrogate (\\ud800-\\udfff), which is not text.")
    if "enum" in schema and value not in schema["enum"]:
        raise _refuse(where, f"must be one of {', '.join(schema['enum'])}.")
    if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
        raise _refuse(where, f"must be {schema.get('minLength', 0)} to {schema['maxLength']} long.")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise _refuse(where, "is blank or not in the form described.")
    if schema.get("format") == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise _refuse(where, "must be a date, YYYY-MM-DD.") from None
    if schema.get("format") == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise _refuse(where, "must be an e-mail address.")

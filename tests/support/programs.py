"""Short ways to drive programs, reallocations and site visits through their services, for
the tests of those journeys."""

from __future__ import annotations

from datetime import date

from portal.models import Program, Reallocation
from portal.services import programs, reallocation_receipt, reallocations
from portal.services.access import RequestInfo
from tests.conftest import PASSWORD

REQ = RequestInfo(ip="192.0.2.30", user_agent="pytest-agent/1.0")
PDF = b"%PDF-1.4\n% a transmittal slip, no client data\n%%EOF\n"


def program(cast, name: str = "Rapid Re-Housing") -> Program:
    return programs.add(
        cast.admin,
        cast.agency.id,
        name=name,
        funding_source="HUD CoC Program",
        hud_grant_number="CA0001L9T001900",
        start_date=date(2020, 7, 1),
        request=REQ,
    )


def reallocated(cast) -> Reallocation:
    row = program(cast)
    return reallocations.open_(
        cast.admin,
        row.id,
        acquiring_agency_id=cast.other_agency.id,
        reason="HUD reallocated the grant",
        request=REQ,
    )


def delivered(cast, on: date, *, attachment: bytes = b"") -> Reallocation:
    row = reallocated(cast)
    return reallocations.record_delivery(
        cast.ed,
        row.id,
        reallocations.Delivery(
            count=42,
            method="secure_courier",
            delivered_on=on,
            filename="slip.pdf" if attachment else "",
            data=attachment,
        ),
        request=REQ,
    )


def sign(person, row: Reallocation) -> Reallocation:
    return reallocation_receipt.sign(
        person, row.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )

"""The HMIS participation fee ledger (VII.A): access is free unless the lead agency records
a fee for an agency and year; a recorded fee is settled when paid or waived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Agency, ParticipationFee, User
from portal.services import agencies, audit
from portal.services.access import RequestInfo, require_agency_visible, require_role
from portal.services.errors import ServiceError
from portal.services.timefmt import local_date, short_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text

MAX_CENTS = 100_000_000  # $1,000,000: a typing slip, not a fee


@dataclass(frozen=True)
class FeeStanding:
    """Whether the agency's fee for a year is settled, and why, in words."""

    settled: bool
    why: str


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def for_year(agency_id: int, year: int) -> ParticipationFee | None:
    query = select(ParticipationFee).where(
        ParticipationFee.agency_id == agency_id, ParticipationFee.year == year
    )
    return db.session.scalar(query)


def ledger(viewer: User, agency_id: int) -> list[ParticipationFee]:
    require_agency_visible(viewer, agency_id)
    query = (
        select(ParticipationFee)
        .where(ParticipationFee.agency_id == agency_id)
        .order_by(ParticipationFee.year.desc())
    )
    return list(db.session.scalars(query))


def standing(agency: Agency, year: int | None = None) -> FeeStanding:
    """The fee gate of IV.B.4(b) for `year` (this year in the lead agency's time zone)."""
    year = year or local_date(clock.now()).year
    fee = for_year(agency.id, year)
    if fee is None or fee.amount_cents == 0:
        return FeeStanding(True, f"No participation fee applies for {year} (VII.A).")
    if fee.waived:
        return FeeStanding(True, f"The {year} fee of {dollars(fee.amount_cents)} is waived.")
    if fee.paid_on is not None:
        return FeeStanding(
            True,
            f"The {year} fee of {dollars(fee.amount_cents)} was paid {short_date(fee.paid_on)}.",
        )
    return FeeStanding(
        False, f"The {year} participation fee of {dollars(fee.amount_cents)} is unpaid."
    )


def parse_amount(text: str) -> int:
    """'$1,250.00' → 125000 cents; a clear message for anything else."""
    cleaned = (text or "").strip().replace("$", "").replace(",", "")
    try:
        whole, _, part = cleaned.partition(".")
        if not whole.isdigit() or (part and (not part.isdigit() or len(part) > 2)):
            raise ValueError
        cents = int(whole) * 100 + int((part or "0").ljust(2, "0"))
    except ValueError:
        raise ServiceError("Enter the fee as an amount in dollars, such as 1,250.00.") from None
    if cents > MAX_CENTS:
        raise ServiceError(f"A fee above {dollars(MAX_CENTS)} is not accepted.")
    return cents


def record(
    admin: User,
    agency_id: int,
    *,
    year: int,
    amount: str,
    waived: bool,
    paid_on: date | None,
    note: str,
    request: RequestInfo,
) -> ParticipationFee:
    """Records (or corrects) the agency's fee for a year."""
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin can record fees.")
    with unit_of_work("Someone else recorded this year's fee first. Reload and try again."):
        agency = agencies.get(admin, agency_id)
        if agency.is_lead:
            raise ServiceError("The lead agency pays no participation fee.")
        this_year = local_date(clock.now()).year
        if not this_year - 10 <= year <= this_year + 1:
            raise ServiceError(f"Enter a year from {this_year - 10} to {this_year + 1}.")
        cents = parse_amount(amount)
        if paid_on is not None and paid_on > local_date(clock.now()):
            raise ServiceError("The payment date cannot be in the future.")
        fee = for_year(agency.id, year)
        before = _snapshot(fee) if fee else None
        if fee is None:
            fee = ParticipationFee(agency_id=agency.id, year=year)
            db.session.add(fee)
        fee.amount_cents, fee.waived, fee.paid_on = cents, waived, paid_on
        fee.note = clean_text(note, "Note", max_len=2000, required=False, multiline=True)
        fee.recorded_at, fee.recorded_by_id = clock.now(), admin.id
        db.session.flush()
        audit.record(
            admin,
            "fee.record",
            fee,
            f"Recorded the {year} participation fee of {agency.legal_name}: "
            + standing(agency, year).why,
            agency_id=agency.id,
            before=before,
            after=_snapshot(fee),
            request=request,
        )
    return fee


def _snapshot(fee: ParticipationFee) -> dict:
    return {
        "amount": dollars(fee.amount_cents),
        "waived": fee.waived,
        "paid_on": fee.paid_on.isoformat() if fee.paid_on else None,
    }

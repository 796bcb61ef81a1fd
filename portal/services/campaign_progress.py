"""A re-signing campaign's progress, as its page and the API show it: for each agency, the
agreement it replaces, the new one and its state, when the request was sent, first opened
and signed, and how many days it has waited; with the totals by outcome.

An agency's people see their own agency's row only (`campaigns.get` has already decided
that they may see the campaign at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload

from portal import clock
from portal.extensions import db
from portal.models import PENDING_STATES, Agreement, Campaign, SignatureRequest, User
from portal.services import campaign_steps
from portal.services.access import is_lead_staff
from portal.services.timefmt import local_date
from workflows.agreement import AGREEMENT

# The totals, in the order the page shows them: outcome → the states that count for it.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "Waiting for the agency's signature": ("draft", "sent"),
    "Waiting for the lead agency's countersignature": ("agency_signed",),
    "Signed by both: in effect": ("effective", "superseded", "terminated"),
    "Declined": ("declined",),
    "Expired unsigned": ("expired",),
    "Voided": ("voided",),
}


@dataclass(frozen=True)
class Row:
    agency_id: int
    agency_name: str
    old_reference: str
    old_id: int | None
    old_version: str
    agreement: Agreement
    state_label: str
    sent_at: datetime | None
    opened_at: datetime | None
    signed_at: datetime | None
    countersigned_at: datetime | None
    days_waiting: int | None  # None once it no longer waits

    @property
    def waiting(self) -> bool:
        return self.days_waiting is not None


@dataclass(frozen=True)
class Progress:
    campaign: Campaign
    rows: list[Row]
    totals: list[tuple[str, int]]
    due_at: datetime
    rule: str

    @property
    def still_pending(self) -> int:
        return sum(1 for row in self.rows if row.waiting)


def _row(agreement: Agreement, today, opened_at: datetime | None) -> Row:
    waiting = None
    if agreement.state in PENDING_STATES and agreement.sent_at is not None:
        # Whole days since it was first sent, on the lead agency's calendar.
        waiting = (today - local_date(agreement.sent_at)).days
    old = agreement.replaces
    return Row(
        agency_id=agreement.agency_id,
        agency_name=agreement.agency.legal_name,
        old_reference=old.reference if old else "",
        old_id=old.id if old else None,
        old_version=old.template.version if old else "",
        agreement=agreement,
        state_label=AGREEMENT.state(agreement.state).label,
        sent_at=agreement.sent_at,
        opened_at=opened_at,
        signed_at=agreement.agency_signed_at,
        countersigned_at=agreement.lead_signed_at,
        days_waiting=waiting,
    )


def _first_opened(agreement_ids: list[int]) -> dict[int, datetime]:
    """When each agreement's signing page was first opened by a signer asked to sign it (the
    progress of signature_requests), for all of them in one query."""
    if not agreement_ids:
        return {}
    query = (
        select(SignatureRequest.case_id, func.min(SignatureRequest.opened_at))
        .where(
            SignatureRequest.case_type == AGREEMENT.name,
            SignatureRequest.case_id.in_(agreement_ids),
            SignatureRequest.opened_at.is_not(None),
        )
        .group_by(SignatureRequest.case_id)
    )
    return {case_id: at for case_id, at in db.session.execute(query)}


def progress(viewer: User, campaign: Campaign) -> Progress:
    """Each agency's row (only the viewer's own for an agency's people), and the totals."""
    query = (
        select(Agreement)
        .where(Agreement.campaign_id == campaign.id)
        .options(
            defer(Agreement.filled_text),
            joinedload(Agreement.agency),
            joinedload(Agreement.replaces).joinedload(Agreement.template),
        )
    )
    if not is_lead_staff(viewer):
        query = query.where(Agreement.agency_id == viewer.agency_id)
    agreements = list(db.session.scalars(query))
    opened = _first_opened([a.id for a in agreements])
    today = local_date(clock.now())
    rows = sorted(
        (_row(a, today, opened.get(a.id)) for a in agreements),
        key=lambda r: r.agency_name.casefold(),
    )
    totals = [
        (outcome, sum(1 for a in agreements if a.state in states))
        for outcome, states in OUTCOMES.items()
    ]
    due_at, rule = campaign_steps.period_end(campaign)
    return Progress(campaign, rows, totals, due_at, rule)


@dataclass(frozen=True)
class Lineage:
    """An agreement's place in re-signing: the campaign that sent it and the agreement it
    replaces; or the agreement sent to replace it (on its way, or in effect since)."""

    campaign: Campaign | None
    replaces: Agreement | None
    successor: Agreement | None


def lineage(agreement: Agreement) -> Lineage | None:
    """For the agreement's page (whoever may see the agreement may see this: the same
    agency's agreements). None for an agreement that no campaign touched."""
    successor = db.session.scalar(
        select(Agreement)
        .where(Agreement.replaces_id == agreement.id)
        .order_by(Agreement.id.desc())
        .limit(1)
    )
    if agreement.replaces_id is None and successor is None:
        return None
    return Lineage(agreement.campaign, agreement.replaces, successor)

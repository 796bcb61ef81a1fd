"""What a re-signing campaign means for its agreements, as the agreement's own steps happen:
the campaign's deadline as each agreement's expiry, the replaced agreement superseded when
the new one takes effect, and the campaign completed when its last agreement resolves;
and the campaign's own process, whose timer ends the signing period.

The agreement's services call these (portal/services/agreements.py, agreement_signatures.py)
in their own transaction; nothing here imports them, so the data flows one way. Starting,
reading and closing a campaign are in `campaigns`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import PENDING_STATES, Agreement, Campaign
from portal.notify import outbox
from portal.processes import Process, RuleSetting, registry
from portal.services import agreement_requests, cases, lead, links
from portal.services.access import SYSTEM
from portal.services.errors import ServiceError
from portal.services.timefmt import lead_tz, local_instant
from workflows.agreement import AGREEMENT
from workflows.calendar import END_OF_DAY
from workflows.campaign import CAMPAIGN

RULE = "campaign_deadline"


def due_at(campaign: Campaign) -> datetime:
    """The end of the campaign's last day to sign in the lead agency's time zone (DST-safe,
    as every period of the portal ends)."""
    local = datetime.combine(campaign.due_on, END_OF_DAY, tzinfo=lead_tz()).replace(fold=1)
    return local.astimezone(UTC)


def deadline_words(campaign: Campaign) -> str:
    """The rule beside the date, as the pages and e-mails show it."""
    return (
        f"the last day to sign set when campaign {campaign.reference} started; "
        f"ends {local_instant(due_at(campaign))}"
    )


def period_end(campaign: Campaign) -> tuple[datetime, str]:
    """The campaign process's `period_end`: its own deadline."""
    return due_at(campaign), deadline_words(campaign)


def agreement_period_end(agreement: Agreement) -> tuple[datetime, str] | None:
    """The agreement process's `period_end`: a campaign's agreement expires at the
    campaign's deadline (a resend keeps it); any other counts its own period afresh."""
    if agreement.campaign_id is None:
        return None
    return period_end(agreement.campaign)


# The remedies (VIII.B) whose open cases hold a replacement back. Other open cases under the
# old agreement (an amendment not yet signed by both) close by the registry's cascade when
# it is superseded: they change an agreement that no longer binds, and the new version is
# where any change now goes.
REMEDIES = ("default_notice", "termination_notice")


def open_remedies(agreement: Agreement) -> list[Any]:
    """The open remedies under `agreement` (a default notice in its cure period, a notice of
    termination running): ending the agreement would close them by the registry's cascade,
    cutting them short."""
    return open_remedies_of([agreement.id]).get(agreement.id, [])


def open_remedies_of(agreement_ids: list[int]) -> dict[int, list[Any]]:
    """`open_remedies` of many agreements, a query per kind of remedy: agreement id → its
    open remedies (an agreement with none is absent)."""
    found: dict[int, list[Any]] = {}
    if not agreement_ids:
        return found
    for child in registry().children_of(AGREEMENT.name):
        if child.name not in REMEDIES:
            continue
        open_states = [s.name for s in child.machine.states if not s.terminal]
        parent = getattr(child.model, child.parent_key)
        query = select(child.model).where(
            parent.in_(agreement_ids), child.model.state.in_(open_states)
        )
        for case in db.session.scalars(query.order_by(child.model.id)):
            found.setdefault(getattr(case, child.parent_key), []).append(case)
    return found


def remedy_words(open_cases: list[Any]) -> str:
    """ "default notice ND-0003-001 (In the cure period)", for refusals and the pages."""
    parts = []
    for case in open_cases:
        machine = next(
            c.machine for c in registry().children_of(AGREEMENT.name) if isinstance(case, c.model)
        )
        reference = getattr(case, "reference", case.id)
        parts.append(f"{machine.label} {reference} ({machine.state(case.state).label})")
    return "; ".join(parts)


def supersede_replaced(agreement: Agreement, *, at: datetime) -> Agreement | None:
    """Before a replacement's countersignature: the agreement it replaces is superseded
    first, so that only one agreement of the agency is ever in effect (the database's
    unique index checks it at each flush). Returns the superseded agreement, or None for an
    agreement that replaces none.

    Refused while a remedy is open under the old agreement: superseding would close a
    default notice's cure period or a notice of termination by the cascade, cutting the
    remedy short. Refused too once the old agreement has ended otherwise (terminated): its
    replacement must not bring the partnership back by itself.
    """
    old = agreement.replaces
    if old is None or agreement.state != "agency_signed":
        return None  # not a replacement, or the machine refuses the countersignature anyway
    if old.state != "effective":
        raise ServiceError(
            f"{agreement.reference} was to replace {old.reference}, which has ended "
            f"({AGREEMENT.state(old.state).label}), so it cannot take effect. Void it, and "
            "start a new agreement if the agency is to partner again."
        )
    remedies = open_remedies(old)
    if remedies:
        raise ServiceError(
            f"{old.reference} has an open remedy: {remedy_words(remedies)}. The replacement "
            f"{agreement.reference} can be countersigned once that has run its course."
        )
    cases.advance(
        AGREEMENT,
        old,
        "supersede",
        None,
        {},
        at=at,
        request=SYSTEM,
        reason=f"Replaced by agreement {agreement.reference}, signed by both parties.",
    )
    return old


def took_effect(agreement: Agreement, replaced: Agreement | None, *, at: datetime) -> None:
    """After the countersignature: the replaced agreement ended the day the new one took
    effect, and the campaign may be complete."""
    if replaced is not None:
        replaced.ended_on = agreement.effective_on
    resolved(agreement, at=at)


def resolved(agreement: Agreement, *, at: datetime) -> None:
    """An agreement of a campaign left its pending states (in effect, declined, expired,
    voided): when it was the campaign's last one, the campaign is complete."""
    if agreement.campaign is not None:
        complete_if_done(agreement.campaign, at=at)


def complete_if_done(campaign: Campaign, *, at: datetime) -> None:
    """Completes an open campaign none of whose agreements is still pending."""
    if CAMPAIGN.state(campaign.state).terminal:
        return
    if any(a.state in PENDING_STATES for a in campaign.agreements):
        return
    cases.advance(
        CAMPAIGN,
        campaign,
        "complete",
        None,
        {},
        at=at,
        request=SYSTEM,
        reason="Every agreement of the campaign has resolved.",
    )


# --- the process ----------------------------------------------------------------------------


def _deadline_passed(campaign: Campaign, row):
    """The end of the last day to sign: the requests still unsigned expire now (whichever
    of their own timers and this one the sweep reaches first), then the campaign may be
    complete."""
    now = clock.now()
    transition = cases.advance(
        CAMPAIGN,
        campaign,
        "deadline_passes",
        None,
        {},
        at=now,
        request=SYSTEM,
        reason=f"The last day to sign passed ({row.rule_text}).",
    )
    for agreement in campaign.agreements:
        if agreement.state == "sent":
            agreement_requests.expire(agreement, row)
    complete_if_done(campaign, at=now)
    return transition


def _remind(campaign: Campaign, row) -> None:
    """Before the deadline, the lead agency's admins hear how many agencies still have to
    sign (the agencies themselves get their requests' own reminders)."""
    waiting = [a for a in campaign.agreements if a.state == "sent"]
    if not waiting:
        return
    names = "\n".join(f"- {a.agency.legal_name} ({a.reference})" for a in waiting)
    for person in lead.admins():
        outbox.queue(
            person.email,
            f"Campaign {campaign.reference}: {len(waiting)} agencies have not signed yet",
            f"The re-signing campaign {campaign.reference} ends {row.rule_text}.\n\n"
            f"Not signed yet:\n{names}\n\n{links.page(f'/campaigns/{campaign.id}')}\n",
        )


PROCESS = Process(
    machine=CAMPAIGN,
    model=Campaign,
    period_start=lambda campaign: campaign.created_at,
    # The campaign carries its own end: the end of its last day to sign.
    period_end=period_end,
    rules={
        RULE: RuleSetting(
            "CAMPAIGN",
            "Re-signing campaign deadline",
            counted_from="the campaign's start",
            case_end=True,
        )
    },
    on_timer=_deadline_passed,
    on_reminder=_remind,
)

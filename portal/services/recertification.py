"""Yearly recertification (issue 8, V.E.5, V.D.1): when each HMIS user's user agreement and
privacy and security training lapse, the year's campaign that opens one recertification per
issued user, the lapse at the end of the lapse day, reminders before it, and what a lapsed
user may still do.

Why a campaign that a lead agency admin opens: the lead agency decides when the year's
recertification starts and sees its whole size at once; opening it again the same year adds
the people issued since (one recertification per person per year, never two), so nobody is
left out by opening it early. A person is in the year's campaign when the earlier of their two
lapse dates falls in that year or before; later ones wait for next year's campaign.

What a lapse means (V.E.5: no one uses the HMIS without current training and a signed user
agreement): the person can still sign in, but only to renew — every other page sends them to
their recertification — and they are on the lead agency's list of HMIS accounts to deactivate
(`lapsed_users`) until they have renewed both. Renewing after the lapse restores access.

The renewed user agreement and the test are in `recertification_renewal`; opening the
campaign and its lists in `recertification_campaign`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.extensions import db
from portal.models import Recertification, User
from portal.notify import outbox
from portal.processes import Awaiting, Process, RuleSetting
from portal.services import audit, cases, links, security_officers
from portal.services import recertification_dates as dates
from portal.services.access import (
    SYSTEM,
    RequestInfo,
    is_lead_staff,
    require_agency_visible,
)
from portal.services.errors import NotFound
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_date, local_instant, long_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.recertification import RECERTIFICATION

MAX_ID = 2**31 - 1
OPEN_STATES = ("open", "lapsed")


# -- reading ----------------------------------------------------------------------------


def get(viewer: User, recertification_id: int) -> Recertification:
    """The recertification, for the people it concerns: the user, their agency's executive
    director and security officer, and the lead agency's staff; anyone else gets NotFound."""
    in_range = 0 < recertification_id <= MAX_ID
    row = db.session.get(Recertification, recertification_id) if in_range else None
    if row is None:
        raise NotFound()
    require_agency_visible(viewer, row.agency_id)
    concerned = (
        is_lead_staff(viewer)
        or viewer.id == row.user_id
        or viewer.role == "agency_ed"
        or security_officers.is_officer(viewer)
    )
    if not concerned:
        raise NotFound()
    return row


def current_of(user: User) -> Recertification | None:
    """The person's open or lapsed recertification, if any."""
    query = select(Recertification).where(
        Recertification.user_id == user.id, Recertification.state.in_(OPEN_STATES)
    )
    return db.session.scalars(query.order_by(Recertification.id.desc())).first()


def lapsed_of(user: User) -> Recertification | None:
    """The person's lapsed recertification: while there is one, they may only renew."""
    if not user.is_authenticated or is_lead_staff(user):
        return None
    query = select(Recertification).where(
        Recertification.user_id == user.id, Recertification.state == "lapsed"
    )
    return db.session.scalars(query.order_by(Recertification.id.desc())).first()


def lapsed_users() -> list[Recertification]:
    """Every lapsed recertification, oldest lapse first: the HMIS accounts the lead agency
    deactivates in the HMIS until their users renew (for its list of accounts to deactivate)."""
    query = (
        select(Recertification)
        .where(Recertification.state == "lapsed")
        .options(joinedload(Recertification.user))
    )
    return list(db.session.scalars(query.order_by(Recertification.lapses_at, Recertification.id)))


def context(row: Recertification, user: User | None) -> dict[str, object]:
    """The facts the machine's guards read."""
    return {
        "actor_is_user": user is not None and user.id == row.user_id,
        "esign_consent": user is not None and user.esign_consent_at is not None,
        "awaiting_signature": row.document_id is None,
        "awaiting_approval": row.document_id is not None and row.user_agreement_renewed_at is None,
        "both_renewed": row.user_agreement_renewed_at is not None
        and row.training_renewed_at is not None,
    }


def advance(
    row: Recertification,
    event: str,
    user: User | None,
    *,
    at: datetime,
    request: RequestInfo,
    reason: str | None = None,
    ctx: dict[str, object] | None = None,
):
    facts = ctx if ctx is not None else context(row, user)
    return cases.advance(
        RECERTIFICATION, row, event, user, facts, at=at, request=request, reason=reason
    )


def signature_event(row: Recertification, base: str) -> str:
    """`user_signs` or `agency_approves`, as declared for the state the case is in."""
    return base if row.state == "open" else f"{base}_after_lapse"


def close(admin: User, recertification_id: int, *, reason: str, request: RequestInfo):
    """A lead agency HMIS admin closes a recertification the person no longer needs."""
    with unit_of_work("Someone else changed this recertification first. Reload and try again."):
        row = get(admin, recertification_id)
        why = clean_text(reason, "Reason", max_len=2000, multiline=True)
        row.closed_reason = why
        advance(row, "close", admin, at=clock.now(), request=request, reason=why)
    return row


def end_for(person: User, reason: str, *, request: RequestInfo) -> None:
    """In the caller's transaction (a separation, a deactivation): closes the person's open
    recertification, if any, so it neither reminds nor lapses them any more."""
    row = current_of(person)
    if row is not None:
        row.closed_reason = reason
        advance(row, "access_ended", None, at=clock.now(), request=request, reason=reason)


def complete_if_renewed(row: Recertification, request: RequestInfo):
    """In the caller's transaction: records the training renewal if the test was passed
    again since the recertification opened, and completes the recertification once both
    renewals are on file. Returns the completing transition, or None."""
    if row.state not in OPEN_STATES:
        return None
    if row.training_renewed_at is None:
        passed = dates.last_passed(row.user, since=dates.aware(row.opened_at))
        if passed is not None:
            row.training_renewed_at = passed
            audit.record(
                None,
                "recertification.training_renewed",
                row,
                f"{row.user.name} passed the privacy and security test again for the "
                f"{row.year} recertification",
                agency_id=row.agency_id,
                after={"training_renewed_at": passed.isoformat()},
                request=request,
                at=clock.now(),
            )
    if row.user_agreement_renewed_at is None or row.training_renewed_at is None:
        return None
    was_lapsed = row.state == "lapsed"
    transition = advance(row, "renewal_complete", None, at=clock.now(), request=request)
    person = row.user
    outbox.queue(
        person.email,
        "Your HMIS recertification is complete",
        f"Hello {person.name},\n\nYour renewed HMIS User Agreement is approved and you passed "
        f"the privacy and security test again: your {row.year} recertification is complete."
        + (
            f"\n\nYour access is restored; {lead_agency_name()} reactivates your HMIS account."
            if was_lapsed
            else ""
        )
        + "\n",
    )
    return transition


def refresh(viewer: User, recertification_id: int, *, request: RequestInfo) -> Recertification:
    """Reads the recertification, first noting a test passed again since it opened (the
    training service does not know of recertifications, so results are picked up here, when
    the person comes back to their page, and at the lapse)."""
    with unit_of_work("Someone else changed this recertification first. Reload and try again."):
        row = get(viewer, recertification_id)
        if row.state in OPEN_STATES and row.training_renewed_at is None:
            complete_if_renewed(row, request)
    return row


# -- timers and reminders ----------------------------------------------------------------


def _lapse(row: Recertification, deadline_row):
    if not row.user.active:  # the account ended meanwhile: nothing left to lapse
        why = "The person's portal account is no longer active."
        row.closed_reason = why
        return advance(row, "access_ended", None, at=clock.now(), request=SYSTEM, reason=why)
    done = complete_if_renewed(row, SYSTEM)
    if done is not None:
        return done
    transition = advance(row, "lapses", None, at=clock.now(), request=SYSTEM)
    person = row.user
    body = (
        f"The {row.year} recertification of {person.name} lapsed at "
        f"{local_instant(row.lapses_at)} without "
        + " and ".join(_missing(row))
        + f". Their HMIS access is suspended until they renew:\n"
        f"{links.page(f'/recertification/{row.id}')}\n"
    )
    outbox.queue(
        person.email,
        "Your HMIS access lapsed: renew to restore it",
        f"Hello {person.name},\n\n{body}",
    )
    for officer in _officers(row):
        outbox.queue(officer.email, f"HMIS access lapsed: {person.name}", body)
    return transition


def _missing(row: Recertification) -> list[str]:
    missing = []
    if row.user_agreement_renewed_at is None:
        missing.append("the renewed user agreement")
    if row.training_renewed_at is None:
        missing.append("the privacy and security test passed again")
    return missing


def _officers(row: Recertification) -> list[User]:
    holder = security_officers.current(row.agency)
    if holder is None or not holder.user.active or holder.user.id == row.user_id:
        return []
    return [holder.user]


def _remind(row: Recertification, deadline_row) -> None:
    if not row.user.active:
        return
    days = (local_date(row.lapses_at) - local_date(deadline_row.due_at)).days
    person = row.user
    missing = " and ".join(_missing(row)) or "nothing more"
    when = f"in {days} day{'s' if days != 1 else ''}, at {local_instant(row.lapses_at)}"
    link = links.page(f"/recertification/{row.id}")
    outbox.queue(
        person.email,
        f"Reminder: your HMIS access lapses in {days} day{'s' if days != 1 else ''}",
        f"Hello {person.name},\n\nYour HMIS access lapses {when}, unless you renew. Still "
        f"needed: {missing}.\n{link}\n",
    )
    if days <= 7:  # the agency's security officer follows the last reminders
        for officer in _officers(row):
            outbox.queue(
                officer.email,
                f"Copy: HMIS access of {person.name} lapses in {days} day"
                f"{'s' if days != 1 else ''}",
                f"The HMIS access of {person.name} lapses {when}. Still needed: {missing}.\n"
                f"{link}\n",
            )


# -- what awaits a person ---------------------------------------------------------------


def awaiting(user: User) -> list[Awaiting]:
    """The person's own open recertification; for the agency's approvers, renewed user
    agreements to approve; for the lead agency's admins, the lapsed users."""
    items: list[Awaiting] = []
    mine = current_of(user)
    if mine is not None and _missing(mine):
        items.append(_item(mine, _own_title(mine), "Still needed: " + "; ".join(_missing(mine))))
    if user.role == "agency_ed" or security_officers.is_officer(user):
        query = select(Recertification).where(
            Recertification.agency_id == user.agency_id,
            Recertification.state.in_(OPEN_STATES),
            Recertification.document_id.is_not(None),
            Recertification.user_agreement_renewed_at.is_(None),
            Recertification.user_id != user.id,
        )
        query = query.options(joinedload(Recertification.user))
        for row in db.session.scalars(query.order_by(Recertification.id)):
            items.append(_item(row, f"Approve the renewed user agreement of {row.user.name}"))
    if user.role == "ssf_admin":
        for row in lapsed_users():
            items.append(
                _item(row, f"Lapsed: deactivate the HMIS account of {row.user.name} until renewed")
            )
    return items


def _own_title(row: Recertification) -> str:
    if row.state == "lapsed":
        return "Your HMIS access lapsed: renew it"
    return f"Renew your HMIS access by {long_date(local_date(row.lapses_at))}"


def _item(row: Recertification, title: str, detail: str = "") -> Awaiting:
    due = row.lapses_at if row.state == "open" else None
    return Awaiting(
        case=row,
        title=title,
        url=f"/recertification/{row.id}",
        since=row.opened_at,
        due_at=due,
        rule=_period_end(row)[1] if due else "",
        detail=detail,
    )


def _period_end(row: Recertification) -> tuple[datetime, str]:
    return (
        row.lapses_at,
        f"the earlier of the user agreement's and the training's lapse dates; ends "
        f"{local_instant(row.lapses_at)}",
    )


PROCESS = Process(
    machine=RECERTIFICATION,
    model=Recertification,
    period_start=lambda row: row.opened_at,
    # Each recertification carries its own end: the end of its first lapse day.
    period_end=_period_end,
    rules={
        "recertification_lapse": RuleSetting(
            "RECERTIFICATION",
            "Recertification lapse",
            counted_from="the user agreement's approval or the last passed test",
            reminder_days="RECERTIFICATION_REMINDER_DAYS",
            case_end=True,
        ),
    },
    on_timer=_lapse,
    on_reminder=_remind,
    documents=("user_agreement",),
    awaiting=awaiting,
)

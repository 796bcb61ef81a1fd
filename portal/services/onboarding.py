"""A new HMIS user's onboarding (workflows/onboarding.py): the invitation, the steps the
portal fires, and the training window.

Signing and approving the HMIS User Agreement are in `user_agreements`; courses and tests in
`training`, which tells this module when a user's required training may be complete. The
access request that starts an onboarding is in `access_requests`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.extensions import db
from portal.models import Deadline, Onboarding, User
from portal.notify import outbox
from portal.processes import Awaiting, Process, RuleSetting, SignatureSteps
from portal.services import (
    auth,
    cases,
    deadlines,
    links,
    security_officers,
    signature_requests,
)
from portal.services.access import SYSTEM, RequestInfo, is_lead_staff, require_agency_visible
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.next_steps import NextSteps, for_case
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.onboarding import ONBOARDING

INVITATION_PATH = "/onboarding/invitation"


def get(viewer: User, onboarding_id: int) -> Onboarding:
    """The onboarding, for the people it concerns: the new user, their agency's executive
    director and security officer, and the lead agency's staff. Anyone else, colleagues
    included, gets NotFound, as for another agency's ids: the user agreement holds their
    name, job and HMIS role."""
    onboarding = db.session.get(Onboarding, onboarding_id)
    if onboarding is None:
        raise NotFound()
    require_agency_visible(viewer, onboarding.agency_id)
    concerned = (
        is_lead_staff(viewer)
        or viewer.id == onboarding.user_id
        or viewer.role == "agency_ed"
        or security_officers.is_officer(viewer)
    )
    if not concerned:
        raise NotFound()
    return onboarding


def of_user(user: User) -> Onboarding | None:
    """The person's newest onboarding, if they have one."""
    query = select(Onboarding).where(Onboarding.user_id == user.id).order_by(Onboarding.id.desc())
    return db.session.scalars(query).first()


def open_of(user: User) -> Onboarding | None:
    """The person's own onboarding while it is open (their home shows where it stands)."""
    mine = of_user(user)
    return mine if mine is not None and not ONBOARDING.state(mine.state).terminal else None


def context(onboarding: Onboarding, user: User) -> dict[str, object]:
    """The facts the machine's guards read."""
    return {
        "actor_is_new_user": user.id == onboarding.user_id,
        "esign_consent": user.esign_consent_at is not None,
    }


def _page_context(onboarding: Onboarding, user: User) -> dict[str, object]:
    ctx = context(onboarding, user)
    ctx["esign_consent"] = True  # consent is given on the signing page itself
    return ctx


def next_steps(onboarding: Onboarding, user: User) -> NextSteps:
    return for_case(ONBOARDING, onboarding, user, _page_context(onboarding, user))


def advance(
    onboarding: Onboarding,
    event: str,
    user: User | None,
    *,
    at: datetime,
    request: RequestInfo,
    reason: str | None = None,
):
    ctx = context(onboarding, user) if user is not None else {}
    return cases.advance(
        ONBOARDING, onboarding, event, user, ctx, at=at, request=request, reason=reason
    )


def _invitation_expires() -> datetime:
    """When an invitation sent now expires: the same moment as the onboarding's timer."""
    return deadlines.compute(clock.now(), deadlines.rule("onboarding_invitation")).due_at


def start(request_row, requester: User, *, request: RequestInfo) -> Onboarding:
    """Opens the onboarding of a new access request, in the caller's transaction, and
    e-mails the invitation (or, for a person who already has a password, moves straight on
    to the user agreement)."""
    now = clock.now()
    onboarding = Onboarding(
        access_request_id=request_row.id,
        agency_id=request_row.agency_id,
        user_id=request_row.user_id,
        state=ONBOARDING.initial,
        started_at=now,
    )
    db.session.add(onboarding)
    db.session.flush()
    cases.record_creation(ONBOARDING, onboarding, requester, at=now, request=request)
    person = request_row.user
    if person.password_hash:
        advance(onboarding, "accept_invitation", person, at=now, request=SYSTEM)
        link = signature_requests.send(ONBOARDING.name, onboarding, person, at=now)
        outbox.queue(
            person.email,
            "Your HMIS access: sign the HMIS User Agreement",
            f"Hello {person.name},\n\n{requester.name} requested HMIS access for you at "
            f"{request_row.agency.legal_name}. Your next step is to read and sign the HMIS "
            f"User Agreement:\n{link}\n",
        )
    else:
        _send_invitation(onboarding, requester)
    return onboarding


def _send_invitation(onboarding: Onboarding, sender: User) -> None:
    agency = onboarding.request.agency.legal_name
    auth.invite(
        onboarding.user,
        purpose=f"{sender.name} requested HMIS access for you at {agency}. Set a password to "
        f"begin: you will then sign the HMIS User Agreement and complete the training "
        f"{lead_agency_name()} requires.",
        expires_at=_invitation_expires(),
        path=INVITATION_PATH,
    )


def accept_invitation(token: str, password: str, confirm: str, request: RequestInfo) -> User:
    """The new user sets a password from their invitation; onboarding moves to signing."""
    with unit_of_work():
        user = auth.redeem_invitation(token, password, confirm, request)
        onboarding = of_user(user)
        if onboarding is not None and onboarding.state == "invited":
            now = clock.now()
            advance(onboarding, "accept_invitation", user, at=now, request=request)
            # The person goes straight to the agreement; the link is for the reminders.
            signature_requests.send(ONBOARDING.name, onboarding, user, at=now)
    return user


def reinvite(user: User, onboarding_id: int, *, request: RequestInfo) -> Onboarding:
    """Sends a new invitation; the older link stops working."""
    with unit_of_work():
        onboarding = get(user, onboarding_id)
        advance(onboarding, "reinvite", user, at=clock.now(), request=request)
        _send_invitation(onboarding, user)
    return onboarding


def reopen_training(
    admin: User, onboarding_id: int, *, reason: str, request: RequestInfo
) -> Onboarding:
    with unit_of_work():
        onboarding = get(admin, onboarding_id)
        why = clean_text(reason, "Reason", max_len=2000, multiline=True)
        advance(onboarding, "reopen_training", admin, at=clock.now(), request=request, reason=why)
        outbox.queue(
            onboarding.user.email,
            "Your HMIS training window is open again",
            f"Hello {onboarding.user.name},\n\n{lead_agency_name()} reopened your training "
            f"window: {why}\n\n{links.page('/training/')}\n",
        )
    return onboarding


def note_training(user: User, *, complete: bool, request: RequestInfo) -> None:
    """Called by `training`, in its transaction, after a test result: when every required
    course is complete (`complete`, computed there), the onboarding moves on."""
    onboarding = of_user(user)
    if complete and onboarding is not None and onboarding.state in ("training", "training_overdue"):
        now = clock.now()
        onboarding.training_completed_at = now
        advance(onboarding, "training_completed", None, at=now, request=request)


def refusal_to_train(user: User) -> str | None:
    """Why this person may not take a test now, as far as onboarding decides (a training
    window that passed), or None."""
    onboarding = of_user(user)
    if onboarding is not None and onboarding.state == "training_overdue":
        return (
            f"Your training window has passed. Ask {lead_agency_name()}'s HMIS team to reopen it."
        )
    if onboarding is not None and onboarding.state in ("invited", "signing", "approval"):
        return "Training opens once your HMIS User Agreement is signed and approved."
    return None


# -- timers and reminders --------------------------------------------------------------


def _timer(onboarding: Onboarding, row):
    now = clock.now()
    transition = advance(onboarding, row.event, None, at=now, request=SYSTEM)
    request_row = onboarding.request
    if row.event == "signature_expires":
        _signature_expired(onboarding, now)
    elif row.event == "invitation_expires":
        subject = f"Invitation expired: {onboarding.user.name} ({request_row.reference})"
        body = (
            f"The invitation sent to {onboarding.user.name} for HMIS access expired unused. "
            f"Send a new one here:\n{links.page(f'/access-requests/{request_row.id}')}\n"
        )
        for person in _agency_contacts(onboarding):
            outbox.queue(person.email, subject, body)
    else:
        outbox.queue(
            onboarding.user.email,
            "Your HMIS training window has passed",
            f"Hello {onboarding.user.name},\n\nThe window to complete the required HMIS "
            f"training has passed. Ask {lead_agency_name()}'s HMIS team to reopen it.\n",
        )
    return transition


def _remind(onboarding: Onboarding, row) -> None:
    if row.state == "signing":
        remind_to_sign(onboarding, row)
        return
    what = "invitation" if row.state == "invited" else "window to complete your training"
    outbox.queue(
        onboarding.user.email,
        "Reminder: your HMIS onboarding",
        f"Hello {onboarding.user.name},\n\nYour {what} ends {row.rule_text}.\n"
        f"{links.page(f'/onboarding/{onboarding.id}')}\n",
    )


# -- the request to sign the HMIS User Agreement ------------------------------------------


def ask_to_sign(onboarding: Onboarding, at: datetime) -> None:
    """A new link for the new user to sign (a resend); older links stop working."""
    link = signature_requests.send(ONBOARDING.name, onboarding, onboarding.user, at=at)
    _mail_link(onboarding, link, expires="")


def remind_to_sign(onboarding: Onboarding, row: Deadline | None) -> None:
    """A reminder to sign (3, 7 and 14 days after the request, by default, or one a lead
    admin sent now, `row` None): the new user gets their current link again."""
    now = clock.now()
    if row is None:
        row = next(iter(deadlines.pending_for(ONBOARDING.name, onboarding.id)), None)
    for request_row in signature_requests.live(ONBOARDING.name, onboarding.id):
        signature_requests.reminded(request_row, at=now)
        link = signature_requests.link_of(request_row)
        _mail_link(onboarding, link, expires=row.rule_text if row is not None else "")


def _mail_link(onboarding: Onboarding, link: str, *, expires: str) -> None:
    person = onboarding.user
    ask = (
        f"Your next step for your HMIS access at {onboarding.request.agency.legal_name} is to "
        f"read and sign the HMIS User Agreement."
    )
    subject = "Your HMIS access: sign the HMIS User Agreement"
    if expires:
        subject, ask = "Reminder: " + subject, f"A reminder: {ask} The request expires {expires}."
    outbox.queue(person.email, subject, f"Hello {person.name},\n\n{ask}\n\n{link}\n")


def _signature_expired(onboarding: Onboarding, now: datetime) -> None:
    """The links stop working; the new user and the agency's managers are told, and the
    managers (or the lead agency) may send a new link."""
    signature_requests.end(ONBOARDING.name, onboarding.id, at=now)
    person = onboarding.user
    page = links.page(f"/onboarding/{onboarding.id}")
    outbox.queue(
        person.email,
        "Your request to sign the HMIS User Agreement expired",
        f"Hello {person.name},\n\nThe request to sign your HMIS User Agreement expired "
        f"unsigned. Ask your agency for a new link.\n",
    )
    for contact in _agency_contacts(onboarding):
        outbox.queue(
            contact.email,
            f"Unsigned: {person.name}'s HMIS User Agreement ({onboarding.reference})",
            f"{person.name} did not sign the HMIS User Agreement in time. Send a new link to "
            f"sign here:\n{page}\n",
        )


def _agency_contacts(onboarding: Onboarding) -> list[User]:
    return [
        p
        for p in onboarding.request.agency.people
        if p.active and p.role in ("agency_ed", "agency_security_officer")
    ]


# -- what awaits a person ---------------------------------------------------------------


# Who an open onboarding waits on, by state: the new user while it is theirs to act, the
# agency's managers to approve or to send a new invitation, a lead agency admin to reopen
# a training window that passed. "invited" waits on the new user, who cannot sign in yet:
# the e-mail is their reminder.
_NEW_USER_STATES = ("signing", "training")
_MANAGER_STATES = ("approval", "invitation_expired", "signature_expired")
_ADMIN_STATES = ("training_overdue",)


def awaiting(user: User) -> list[Awaiting]:
    """What waits on this person in onboarding, for their home page and reminders."""
    own = (Onboarding.user_id == user.id) & Onboarding.state.in_(_NEW_USER_STATES)
    if user.role == "ssf_admin":
        query = select(Onboarding).where(Onboarding.state.in_(_ADMIN_STATES))
    elif user.role == "agency_ed" or security_officers.is_officer(user):
        managed = (Onboarding.agency_id == user.agency_id) & Onboarding.state.in_(_MANAGER_STATES)
        query = select(Onboarding).where(own | (managed & (Onboarding.user_id != user.id)))
    else:
        query = select(Onboarding).where(own)
    rows = list(
        db.session.scalars(query.options(joinedload(Onboarding.user)).order_by(Onboarding.id))
    )
    # Deadlines and last steps of every row at once, not two queries per onboarding.
    ids = [row.id for row in rows]
    pendings = deadlines.pending_for_cases(ONBOARDING.name, ids)
    entered = cases.last_entered(ONBOARDING.name, ids)
    items: list[Awaiting] = []
    for onboarding in rows:
        pending = pendings.get(onboarding.id, [])
        items.append(
            Awaiting(
                case=onboarding,
                title=_awaiting_title(onboarding, user),
                url=f"/onboarding/{onboarding.id}",
                since=entered[onboarding.id],
                due_at=pending[0].due_at if pending else None,
                rule=pending[0].rule_text if pending else "",
            )
        )
    return items


def _awaiting_title(onboarding: Onboarding, user: User) -> str:
    if onboarding.user_id == user.id:
        if onboarding.state == "signing":
            return "Sign your HMIS User Agreement"
        return "Complete your HMIS training and tests"
    name = onboarding.user.name
    return {
        "approval": f"Approve the HMIS User Agreement of {name}",
        "invitation_expired": f"Send {name} a new invitation: the last one expired",
        "signature_expired": f"Send {name} a new link to sign: the request expired",
        "training_overdue": f"Training window passed for {name}: reopen it or withdraw",
    }[onboarding.state]


def refuse_unless_open(onboarding: Onboarding) -> None:
    if ONBOARDING.state(onboarding.state).terminal:
        raise ServiceError("This onboarding is closed.")


PROCESS = Process(
    machine=ONBOARDING,
    model=Onboarding,
    # Each timed state counts from the moment it is entered.
    period_start=lambda onboarding: clock.now(),
    rules={
        "onboarding_invitation": RuleSetting(
            "ONBOARDING_INVITATION", "Onboarding invitation", counted_from="the invitation"
        ),
        "training_window": RuleSetting(
            "TRAINING_WINDOW", "Training window", counted_from="the training window opened"
        ),
        "user_agreement_signature": RuleSetting(
            "SIGNATURE_REQUEST",
            "Request to sign the HMIS User Agreement",
            counted_from="the request to sign",
            reminder_days="SIGNATURE_REMINDER_DAYS",
            reminders_after_start=True,
        ),
    },
    on_timer=_timer,
    on_reminder=_remind,
    documents=("user_agreement",),
    parent="access_request",
    parent_key="access_request_id",
    on_parent_end="request_ended",
    awaiting=awaiting,
    signature=SignatureSteps(
        resend_event="resend_user_agreement",
        rule="user_agreement_signature",
        get=get,
        ask=ask_to_sign,
        remind=remind_to_sign,
        signing_page=lambda onboarding: f"/onboarding/{onboarding.id}#h-sign",
        case_page=lambda onboarding: f"/onboarding/{onboarding.id}",
    ),
)

"""Thirty days' notice of termination (VIII.B.1), and what ending an agreement does.

On the notice's effective date the agreement becomes terminated by itself (the deadline
fires); before it, the party that gave notice may rescind it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Agreement, User
from portal.models.remedies import TerminationNotice
from portal.processes import Process, RuleSetting
from portal.services import agreements, audit, cases, form_keys, identities, remedies
from portal.services.access import SYSTEM, RequestInfo
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_datetime
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.agreement import AGREEMENT
from workflows.default_notice import AGREEMENT_ENDED
from workflows.termination_notice import TERMINATION_NOTICE

WHAT = "A notice of termination"
KIND = remedies.NoticeKind(
    machine=TERMINATION_NOTICE,
    model=TerminationNotice,
    kind="termination_notice",
    title="Notice of Termination",
    prefix="NT",
    path="termination",
    rule_name="termination_notice",
)


def get(viewer: User, notice_id: int) -> TerminationNotice:
    return remedies.get_case(TerminationNotice, viewer, notice_id)


def for_agreement(viewer: User, agreement_id: int) -> list[TerminationNotice]:
    return remedies.cases_of(TerminationNotice, viewer, agreement_id)


def context(notice: TerminationNotice, user: User | None) -> dict[str, object]:
    if user is None:
        return {}
    return {"actor_acts_for_issuer": remedies.acts_for(user, notice.issuer_side, notice.agency)}


def options(notice: TerminationNotice, user: User):
    return cases.options(TERMINATION_NOTICE, notice, user, context(notice, user))


@form_keys.one_per_key(
    lambda user, agreement_id, key: remedies.given_with(TerminationNotice, user, agreement_id, key)
)
def give(
    user: User,
    agreement_id: int,
    *,
    reason: str,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    form_key: str | None = None,
) -> TerminationNotice:
    """Gives, signs and mails a notice of termination. `form_key` is the giving form's
    one-time key: sent again, it returns the notice it gave, `already_given` (see form_keys)."""
    with unit_of_work():
        agreement = agreements.get(user, agreement_id)
        refusal = refusal_to_give(user, agreement)
        if refusal:
            raise ServiceError(refusal)
        side = remedies.side_of(user)
        why = clean_text(reason, "Reason", max_len=20_000, required=False, multiline=True)

        def words(notice: TerminationNotice, period: remedies.Period) -> remedies.NoticeText:
            issuer = remedies.party_name(side, notice.agency)
            paragraphs = [
                f"{issuer} gives {period.words}' prior written notice under section VIII.B.1 "
                f"that it terminates the HMIS Partner Agency Agreement {agreement.reference}.",
                f"The agreement ends {period.ends.text}.",
            ]
            if why:
                paragraphs.append("Reason:\n" + why)
            return remedies.NoticeText(
                paragraphs=paragraphs,
                provisions=[("VIII.B.1", f"Termination on {period.words}' notice")],
                details=[
                    ("Termination takes effect", period.ends.text),
                    ("Notice given", local_datetime(notice.given_at)),
                ],
                summary=f"Gave notice of termination {notice.reference} of {agreement.reference}",
                mail=f"{issuer} gave notice that the HMIS Partner Agency Agreement "
                f"{agreement.reference} terminates; it ends {period.ends.text}.\n",
            )

        notice = remedies.give_notice(
            KIND,
            user,
            agreement,
            side,
            password=password,
            intent=intent,
            consent=consent,
            request=request,
            form_key=form_key,
            fields=lambda period: {
                "reason": why,
                "effective_at": period.ends.due_at,
                "rule_text": period.ends.text,
            },
            text=words,
        )
    return notice


def rescind(user: User, notice_id: int, *, reason: str, request: RequestInfo) -> TerminationNotice:
    with unit_of_work():
        notice = get(user, notice_id)
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        cases.advance(
            TERMINATION_NOTICE,
            notice,
            "rescind",
            user,
            context(notice, user),
            at=clock.now(),
            request=request,
            reason=why,
        )
        notice.closed_reason = why
        for side in ("lead", "agency"):
            remedies.notify_side(
                side,
                notice.agency,
                f"Rescinded: Notice of Termination {notice.reference}",
                f"{user.name} rescinded notice of termination {notice.reference}; the agreement "
                f"{notice.agreement.reference} stays in effect.\nReason:\n{why}\n",
            )
    return notice


def terminate_agreement(agreement: Agreement, *, at: datetime, reason: str) -> None:
    """Ends the agreement (VIII.B.4): records kept, the agency's accounts deactivated and
    their signing certificates revoked (they no longer sign for a partner agency)."""
    if agreement.state != "effective":
        raise ServiceError("Only an agreement in effect can be terminated.")
    cases.advance(AGREEMENT, agreement, "terminate", None, {}, at=at, request=SYSTEM, reason=reason)
    agreement.closed_reason = reason
    for person in agreement.agency.people:
        identities.retire_all(person, "agreement_ended", at=at)
        if person.active:
            person.active = False
            audit.record(
                None,
                "user.deactivate",
                person,
                f"Deactivated {person.name}: the agency's agreement was terminated",
                agency_id=agreement.agency_id,
                before={"active": True},
                after={"active": False},
                at=at,
            )


def _notice_period_ended(notice: TerminationNotice, row):
    now = clock.now()
    transition = cases.advance(
        TERMINATION_NOTICE, notice, row.event, None, {}, at=now, request=SYSTEM
    )
    # Both sides hear of it before the agency's accounts are deactivated (VIII.B.4).
    for side in ("lead", "agency"):
        remedies.notify_side(
            side,
            notice.agency,
            f"Agreement {notice.agreement.reference} terminated",
            f"The notice period of {notice.reference} ended {notice.rule_text}; the HMIS "
            f"Partner Agency Agreement {notice.agreement.reference} is terminated. "
            f"{lead_agency_name()} keeps every record and document (VIII.B.4).\n",
        )
    if notice.agreement.state == "effective":
        terminate_agreement(
            notice.agreement, at=now, reason=f"The notice period of {notice.reference} ran out"
        )
    return transition


def running(agreement: Agreement) -> TerminationNotice | None:
    """The notice of termination whose period runs on `agreement`, if one does."""
    timed = [t.state for t in TERMINATION_NOTICE.timers]
    query = select(TerminationNotice).where(
        TerminationNotice.agreement_id == agreement.id, TerminationNotice.state.in_(timed)
    )
    return db.session.scalar(query)


def refusal_to_give(user: User, agreement: Agreement) -> str | None:
    """Why `user` may not give notice of termination on `agreement` now, or None if they may:
    the remedies' rule, and one running notice of termination at a time."""
    refusal = remedies.refusal_to_give(user, agreement, WHAT)
    if refusal is not None:
        return refusal
    pending = running(agreement)
    if pending is not None:
        return (
            f"Notice of termination {pending.reference} is already running; it ends the "
            f"agreement {pending.rule_text}."
        )
    return None


PROCESS = Process(
    machine=TERMINATION_NOTICE,
    model=TerminationNotice,
    period_start=lambda notice: notice.given_at,
    period_end=lambda notice: (notice.effective_at, notice.rule_text),
    rules={
        "termination_notice": RuleSetting("TERMINATION_NOTICE", "Notice of termination (VIII.B.1)")
    },
    on_timer=_notice_period_ended,
    documents=("termination_notice",),
    parent="agreement",
    parent_key="agreement_id",
    on_parent_end=AGREEMENT_ENDED,
)

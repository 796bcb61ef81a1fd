"""Notices of default and their ten-day cure periods (VIII.B.3).

Given by either party for an agreement in effect. The cure period is a durable deadline;
at its end an uncured notice lapses by itself, and only then may the party that gave it
declare the agreement terminated (a decision, never automatic) or waive the default.
Cures submitted within the period, and deciding on them, are in `cures`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal import clock
from portal.extensions import db
from portal.models import Agreement, User
from portal.models.remedies import DefaultNotice
from portal.processes import Awaiting, Process, RuleSetting
from portal.services import (
    access,
    agreements,
    cases,
    form_keys,
    links,
    remedies,
    signing,
    terminations,
    webhooks,
)
from portal.services import awaiting as waits
from portal.services.access import SYSTEM, RequestInfo
from portal.services.errors import ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.default_notice import AGREEMENT_ENDED, DEFAULT_NOTICE, not_now_reason
from workflows.engine import Option

WHAT = "A notice of default"
KIND = remedies.NoticeKind(
    machine=DEFAULT_NOTICE,
    model=DefaultNotice,
    kind="default_notice",
    title="Notice of Default",
    prefix="ND",
    path="default",
    rule_name="cure_period",
)


def get(viewer: User, notice_id: int) -> DefaultNotice:
    return remedies.get_case(DefaultNotice, viewer, notice_id)


def for_agreement(viewer: User, agreement_id: int) -> list[DefaultNotice]:
    return remedies.cases_of(DefaultNotice, viewer, agreement_id)


def context(notice: DefaultNotice, user: User | None) -> dict[str, object]:
    if user is None:
        return {}
    return {
        "actor_acts_for_issuer": remedies.acts_for(user, notice.issuer_side, notice.agency),
        "actor_acts_for_defaulting_party": remedies.acts_for(
            user, notice.defaulting_side, notice.agency
        ),
        "actor_is_authorized_signer": remedies.may_sign_for_side(
            user, notice.issuer_side, notice.agency
        ),
    }


def options(notice: DefaultNotice, user: User) -> list[Option]:
    return cases.options(DEFAULT_NOTICE, notice, user, context(notice, user))


def provisions_of(agreement) -> list[tuple[str, str]]:
    from portal.documents.template_text import sections

    return sections(agreement.template.body)


@form_keys.one_per_key(
    lambda user, agreement_id, key: remedies.given_with(DefaultNotice, user, agreement_id, key)
)
def give(
    user: User,
    agreement_id: int,
    *,
    provisions: list[str],
    description: str,
    cure_required: str,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    form_key: str | None = None,
) -> DefaultNotice:
    """Gives, signs and mails a notice of default. `form_key` is the giving form's one-time
    key: sent again, it returns the notice it gave, `already_given` (see form_keys)."""
    with unit_of_work():
        agreement = agreements.get(user, agreement_id)
        side = remedies.issuing_side(user, agreement, WHAT)
        known = dict(provisions_of(agreement))
        chosen = [c for c in dict.fromkeys(provisions) if c]
        if not chosen:
            raise ServiceError("Choose at least one provision of the agreement that was breached.")
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise ServiceError(f"Not provisions of this agreement: {', '.join(unknown)}.")
        text = clean_text(description, "Description of the default", max_len=20_000, multiline=True)
        cure = clean_text(cure_required, "What would cure it", max_len=20_000, multiline=True)

        def words(notice: DefaultNotice, period: remedies.Period) -> remedies.NoticeText:
            issuer = remedies.party_name(side, notice.agency)
            return remedies.NoticeText(
                paragraphs=[
                    f"{issuer} gives notice under section VIII.B.3 of the HMIS Partner Agency "
                    f"Agreement that it believes "
                    f"{remedies.party_name(notice.defaulting_side, notice.agency)} is in "
                    "default of the provisions listed above.",
                    "The default:\n" + text,
                    "What would cure it:\n" + cure,
                    f"The defaulting party has {period.words} to cure the default. If it is "
                    "cured in time, the agreement continues in effect. If it is not, the party "
                    "giving this notice has the right to declare the agreement immediately "
                    "terminated.",
                ],
                provisions=[tuple(p) for p in notice.provisions],
                details=[
                    ("Cure period ends", period.ends.text),
                    ("Notice given", _when(notice.given_at)),
                ],
                summary=f"Gave notice of default {notice.reference} on {agreement.reference}",
                mail=f"{issuer} gave notice of default under the HMIS Partner Agency Agreement "
                f"{agreement.reference}.\n\nCure period: {period.ends.text}.\n",
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
                "provisions": [[c, known[c]] for c in chosen],
                "description": text,
                "cure_required": cure,
                "cure_ends_at": period.ends.due_at,
                "cure_rule_text": period.ends.text,
            },
            text=words,
        )
    return notice


def _when(instant) -> str:
    from portal.services.timefmt import local_datetime

    return local_datetime(instant)


def advance(
    notice: DefaultNotice,
    event: str,
    user: User | None,
    *,
    at,
    request: RequestInfo,
    reason: str | None = None,
):
    """One step of the notice, refused in words when it comes too early or too late."""
    refusal = not_now_reason(notice.state, event)
    if refusal:
        raise ServiceError(refusal)
    return cases.advance(
        DEFAULT_NOTICE,
        notice,
        event,
        user,
        context(notice, user),
        at=at,
        request=request,
        reason=reason,
    )


def withdraw(user: User, notice_id: int, *, reason: str, request: RequestInfo) -> DefaultNotice:
    return _close(user, notice_id, "withdraw", reason, request, "withdrew the notice")


def waive(user: User, notice_id: int, *, reason: str, request: RequestInfo) -> DefaultNotice:
    return _close(user, notice_id, "waive", reason, request, "waived the default")


def _close(user, notice_id, event, reason, request, words):
    with unit_of_work():
        notice = get(user, notice_id)
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        advance(notice, event, user, at=clock.now(), request=request, reason=why)
        notice.closed_reason = why
        remedies.notify_side(
            notice.defaulting_side,
            notice.agency,
            f"Notice of Default {notice.reference}",
            f"{user.name} {words} ({notice.reference}). Reason:\n{why}\n",
        )
    return notice


def _declared_with(user: User, notice_id: int, key: str) -> DefaultNotice | None:
    """The notice an earlier submission of this declaring form declared, if any."""
    query = select(DefaultNotice.id).where(DefaultNotice.declaration_key == key)
    declared = db.session.scalar(query)
    if declared is None:
        return None
    if declared != notice_id:
        raise ServiceError(form_keys.USED)
    return get(user, notice_id)


@form_keys.one_per_key(_declared_with)
def declare_termination(
    user: User,
    notice_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
    form_key: str | None = None,
) -> DefaultNotice:
    """After an uncured lapse, the party that gave notice declares the agreement terminated.
    `form_key` is the declaring form's one-time key: sent again, it returns the notice as
    declared, `already_given` (see form_keys)."""
    with unit_of_work():
        notice = get(user, notice_id)
        now = clock.now()
        refusal = not_now_reason(notice.state, "declare_termination")
        if refusal:
            raise ServiceError(refusal)
        if form_key is not None:
            # Claimed before anything is signed: a second submission of the same form waits
            # here on the notice's row (its lock version and the key's unique constraint)
            # and then fails, so it never signs or mails.
            notice.declaration_key = form_key
            db.session.flush()
        signer = signing.confirm_signer(user, password, intent, consent, request, now)
        transition = advance(notice, "declare_termination", user, at=now, request=request)
        side = notice.issuer_side
        notice.declaration = remedies.signed_notice(
            case_type="default_notice",
            case=notice,
            kind="declaration_of_termination",
            title="Declaration of Termination",
            signer=signer,
            side=side,
            paragraphs=[
                f"On {_when(notice.given_at)} {remedies.party_name(side, notice.agency)} gave "
                f"notice of default {notice.reference}. The default was not cured within the "
                f"cure period, which ended {notice.cure_rule_text}.",
                f"Under section VIII.B.3 of the HMIS Partner Agency Agreement "
                f"{notice.agreement.reference}, {remedies.party_name(side, notice.agency)} "
                "declares the agreement terminated, effective immediately.",
            ],
            provisions=[tuple(p) for p in notice.provisions],
            details=[("Effective", _when(now))],
            now=now,
            transition=transition,
        )
        # Both sides hear of it before the agency's accounts are deactivated (VIII.B.4):
        # the party declared in default must receive the declaration too.
        for other in ("lead", "agency"):
            remedies.notify_side(
                other,
                notice.agency,
                f"Agreement {notice.agreement.reference} terminated",
                f"{user.name} declared the HMIS Partner Agency Agreement "
                f"{notice.agreement.reference} terminated after the uncured default "
                f"{notice.reference}.\n",
                remedies.attachment(
                    notice.declaration, f"{notice.reference}-declaration-of-termination.pdf"
                ),
            )
        terminations.terminate_agreement(
            notice.agreement,
            at=now,
            reason=f"Declared terminated after uncured default {notice.reference}",
        )
    return notice


def _cure_period_ended(notice: DefaultNotice, row):
    transition = advance(notice, row.event, None, at=clock.now(), request=SYSTEM)
    for side in ("lead", "agency"):
        remedies.notify_side(
            side,
            notice.agency,
            f"Cure period lapsed: {notice.reference}",
            f"The cure period of notice of default {notice.reference} ended "
            f"{notice.cure_rule_text} without an accepted cure. The party that gave the notice "
            f"may now declare the agreement terminated or waive the default: "
            f"{links.page(f'/notices/default/{notice.id}')}\n",
        )
    webhooks.emit(
        "cure.lapsed",
        {
            "notice_id": notice.id,
            "reference": notice.reference,
            "agreement_id": notice.agreement_id,
            "agency_id": notice.agency_id,
            "cure_ended_at": notice.cure_ends_at.isoformat(),
        },
    )
    return transition


def _remind(notice: DefaultNotice, row) -> None:
    for side in ("lead", "agency"):
        remedies.notify_side(
            side,
            notice.agency,
            f"Reminder: cure period of {notice.reference} ends soon",
            f"The cure period of notice of default {notice.reference} ends "
            f"{notice.cure_rule_text}.\n{links.page(f'/notices/default/{notice.id}')}\n",
        )


def refusal_to_give(user: User, agreement) -> str | None:
    """Why `user` may not give notice of default on `agreement` now, or None if they may."""
    return remedies.refusal_to_give(user, agreement, WHAT)


def not_now(notice: DefaultNotice, user: User) -> list[Option]:
    """Steps this person could take on the notice, but not in its current state, each with
    why not now (declaring termination before the cure period lapsed, for one). Steps the
    person could never take are left out: `options` already says who may take those."""
    ctx = context(notice, user)
    actor = access.actor_for(user)
    leaving = {event.name for event in DEFAULT_NOTICE.events_from(notice.state)}
    blocked = []
    for event in DEFAULT_NOTICE.events:
        reason = None if event.name in leaving else not_now_reason(notice.state, event.name)
        if reason and DEFAULT_NOTICE.blocker(event, actor, ctx) is None:
            blocked.append(Option(event.name, False, reason))
    return blocked


def awaiting(user: User) -> list[Awaiting]:
    """The notices that wait on this person: in the cure period, on the defaulting party's
    people who may submit a cure (with the cure period's end); a submitted cure, and a lapsed
    period, on the issuer's people who decide. The machine decides, from this person's
    steps (`options`)."""
    states = waits.states_for(DEFAULT_NOTICE, user.role)
    if not states:
        return []
    query = (
        select(DefaultNotice)
        .where(DefaultNotice.state.in_(states))
        # What each item names, in the same query: not a query per notice.
        .options(
            selectinload(DefaultNotice.cures),
            joinedload(DefaultNotice.agency),
            joinedload(DefaultNotice.agreement).load_only(Agreement.reference),
        )
    )
    if not access.is_lead_staff(user):
        query = query.where(DefaultNotice.agency_id == user.agency_id)
    items = []
    for notice in db.session.scalars(query.order_by(DefaultNotice.id)):
        steps = waits.awaited_steps(DEFAULT_NOTICE, options(notice, user))
        if not steps:
            continue
        agency = notice.agency.legal_name
        items.append(
            Awaiting(
                case=notice,
                title=f"{DEFAULT_NOTICE.event(steps[0].event).label}: notice of default "
                f"{notice.reference}",
                url=f"/notices/default/{notice.id}",
                since=_waiting_since(notice),
                due_at=notice.cure_ends_at if notice.state == "cure_period" else None,
                rule=notice.cure_rule_text if notice.state == "cure_period" else "",
                detail=f"Given by {remedies.party_name(notice.issuer_side, notice.agency)} "
                f"under the agreement {notice.agreement.reference} ({agency}). "
                f"{DEFAULT_NOTICE.state(notice.state).label}.",
            )
        )
    return items


def _waiting_since(notice: DefaultNotice):
    """When the notice came to wait where it is: the cure period from the notice (or from
    the last rejected cure), a submitted cure from its submission, a lapse from the end of
    the cure period."""
    if notice.state == "lapsed":
        return notice.cure_ends_at
    if notice.state == "cure_submitted" and notice.cures:
        return notice.cures[-1].submitted_at
    decided = [c.decided_at for c in notice.cures if c.decided_at is not None]
    return max([notice.given_at, *decided])


PROCESS = Process(
    machine=DEFAULT_NOTICE,
    model=DefaultNotice,
    period_start=lambda notice: notice.given_at,
    # Re-entering the cure period (a rejected cure) keeps the end the notice gave.
    period_end=lambda notice: (notice.cure_ends_at, notice.cure_rule_text),
    rules={"cure_period": RuleSetting("CURE_PERIOD", "Cure period (VIII.B.3)")},
    on_timer=_cure_period_ended,
    on_reminder=_remind,
    documents=("default_notice", "declaration_of_termination"),
    parent="agreement",
    parent_key="agreement_id",
    on_parent_end=AGREEMENT_ENDED,
    awaiting=awaiting,
)

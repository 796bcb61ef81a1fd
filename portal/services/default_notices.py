"""Notices of default and their ten-day cure periods (VIII.B.3).

Given by either party for an agreement in effect. The cure period is a durable deadline;
at its end an uncured notice lapses by itself, and only then may the party that gave it
declare the agreement terminated (a decision, never automatic) or waive the default.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from portal import clock, runtime
from portal.extensions import db
from portal.models import User
from portal.models.remedies import CureSubmission, DefaultNotice
from portal.processes import Process, RuleSetting
from portal.services import (
    access,
    agreements,
    cases,
    remedies,
    signing,
    terminations,
)
from portal.services.access import SYSTEM, RequestInfo, require_agency_visible
from portal.services.errors import NotFound, ServiceError
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
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Attachments are evidence: accept only kinds a reviewer can open safely, checked by content.
_SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


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
) -> DefaultNotice:
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


def _advance(
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


def submit_cure(
    user: User, notice_id: int, *, text: str, uploads: list[Upload], request: RequestInfo
) -> CureSubmission:
    with unit_of_work():
        notice = get(user, notice_id)
        body = clean_text(text, "What was done to cure", max_len=20_000, multiline=True)
        now = clock.now()
        # The period ends at its deadline, not when the next sweep happens to run.
        if notice.state == "cure_period" and now > notice.cure_ends_at:
            raise ServiceError(
                f"The cure period ended {notice.cure_rule_text}; a cure can no longer be submitted."
            )
        _advance(notice, "submit_cure", user, at=now, request=request)
        submission = CureSubmission(
            notice=notice,
            submitted_at=now,
            submitted_by_id=user.id,
            text=body,
            attachments=[_store(upload) for upload in uploads if upload.data],
        )
        db.session.add(submission)
        remedies.notify_side(
            notice.issuer_side,
            notice.agency,
            f"Cure submitted: {notice.reference}",
            f"{user.name} submitted a cure for notice of default {notice.reference}. Accept or "
            f"reject it: {remedies.base_url()}/notices/default/{notice.id}\n",
        )
    return submission


def _store(upload: Upload) -> dict:
    from portal.storage import sha256_hex

    name = clean_text(upload.filename, "File name", max_len=200) or "attachment"
    if len(upload.data) > MAX_ATTACHMENT_BYTES:
        raise ServiceError(f"{name} is larger than 10 MB.")
    kind = next((t for sig, t in _SIGNATURES.items() if upload.data.startswith(sig)), None)
    if kind is None:
        guessed = mimetypes.guess_type(name)[0]
        if guessed == "text/plain" and _is_text(upload.data):
            kind = "text/plain"
        else:
            raise ServiceError(f"{name}: attach PDF, PNG, JPEG or plain-text files only.")
    from portal.storage import StorageError

    try:
        key = runtime.storage().put(upload.data, content_type=kind)
    except StorageError as exc:
        raise ServiceError(f"{exc} Nothing was submitted; try again shortly.") from exc
    return {
        "filename": name,
        "storage_key": key,
        "sha256": sha256_hex(upload.data),
        "size": len(upload.data),
        "content_type": kind,
    }


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


def accept_cure(user: User, notice_id: int, *, request: RequestInfo) -> DefaultNotice:
    return _decide(user, notice_id, "accept_cure", "", request)


def reject_cure(user: User, notice_id: int, *, reason: str, request: RequestInfo) -> DefaultNotice:
    return _decide(user, notice_id, "reject_cure", reason, request)


def _decide(user: User, notice_id: int, event: str, reason: str, request: RequestInfo):
    with unit_of_work():
        notice = get(user, notice_id)
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        now = clock.now()
        _advance(notice, event, user, at=now, request=request, reason=why)
        latest = notice.cures[-1] if notice.cures else None
        if latest is not None and not latest.decision:
            latest.decision = "accepted" if event == "accept_cure" else "rejected"
            latest.decided_at, latest.decided_by_id, latest.decision_reason = now, user.id, why
        if event == "accept_cure":
            notice.closed_reason = "Cured; the agreement continues."
            message = "accepted the cure; the default is closed and the agreement continues."
        else:
            message = (
                f"rejected the cure. Reasons:\n{why}\n\nThe cure period still ends "
                f"{notice.cure_rule_text}."
            )
        remedies.notify_side(
            notice.defaulting_side,
            notice.agency,
            f"Cure {notice.reference}: decision",
            f"{user.name} {message}\n",
        )
    return notice


def withdraw(user: User, notice_id: int, *, reason: str, request: RequestInfo) -> DefaultNotice:
    return _close(user, notice_id, "withdraw", reason, request, "withdrew the notice")


def waive(user: User, notice_id: int, *, reason: str, request: RequestInfo) -> DefaultNotice:
    return _close(user, notice_id, "waive", reason, request, "waived the default")


def _close(user, notice_id, event, reason, request, words):
    with unit_of_work():
        notice = get(user, notice_id)
        why = clean_text(reason, "Reason", max_len=4000, required=False, multiline=True)
        _advance(notice, event, user, at=clock.now(), request=request, reason=why)
        notice.closed_reason = why
        remedies.notify_side(
            notice.defaulting_side,
            notice.agency,
            f"Notice of Default {notice.reference}",
            f"{user.name} {words} ({notice.reference}). Reason:\n{why}\n",
        )
    return notice


def declare_termination(
    user: User,
    notice_id: int,
    *,
    password: str,
    intent: bool,
    consent: bool,
    request: RequestInfo,
) -> DefaultNotice:
    """After an uncured lapse, the party that gave notice declares the agreement terminated."""
    with unit_of_work():
        notice = get(user, notice_id)
        now = clock.now()
        refusal = not_now_reason(notice.state, "declare_termination")
        if refusal:
            raise ServiceError(refusal)
        signing.confirm_signer(user, password, intent, consent, request, now)
        transition = _advance(notice, "declare_termination", user, at=now, request=request)
        side = notice.issuer_side
        notice.declaration = remedies.signed_notice(
            case_type="default_notice",
            case=notice,
            kind="declaration_of_termination",
            title="Declaration of Termination",
            signer=user,
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
    transition = _advance(notice, row.event, None, at=clock.now(), request=SYSTEM)
    for side in ("lead", "agency"):
        remedies.notify_side(
            side,
            notice.agency,
            f"Cure period lapsed: {notice.reference}",
            f"The cure period of notice of default {notice.reference} ended "
            f"{notice.cure_rule_text} without an accepted cure. The party that gave the notice "
            f"may now declare the agreement terminated or waive the default: "
            f"{remedies.base_url()}/notices/default/{notice.id}\n",
        )
    return transition


def _remind(notice: DefaultNotice, row) -> None:
    for side in ("lead", "agency"):
        remedies.notify_side(
            side,
            notice.agency,
            f"Reminder: cure period of {notice.reference} ends soon",
            f"The cure period of notice of default {notice.reference} ends "
            f"{notice.cure_rule_text}.\n{remedies.base_url()}/notices/default/{notice.id}\n",
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


@dataclass(frozen=True)
class AttachmentDownload:
    data: bytes
    filename: str
    content_type: str


def read_attachment(viewer: User, notice_id: int, cure_id: int, index: int) -> AttachmentDownload:
    """A file attached to a cure, for someone who may see the notice (others: NotFound)."""
    from portal.storage import StorageError, StorageIntegrityError

    submission = db.session.get(CureSubmission, cure_id)
    if submission is None or submission.notice_id != notice_id:
        raise NotFound()
    require_agency_visible(viewer, submission.notice.agency_id)
    if not 0 <= index < len(submission.attachments):
        raise NotFound()
    meta = submission.attachments[index]
    try:
        data = runtime.storage().get(meta["storage_key"])
    except StorageIntegrityError as exc:
        raise ServiceError(
            f"The stored copy of {meta['filename']} does not match its recorded fingerprint; "
            "do not rely on it."
        ) from exc
    except StorageError as exc:
        raise ServiceError(f"{exc} Try again shortly.") from exc
    return AttachmentDownload(data, meta["filename"], meta["content_type"])


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
)

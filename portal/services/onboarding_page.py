"""What a new user's onboarding page shows one person: a checklist of what is done and what
is left, the running deadline, the HMIS User Agreement, and the steps this person may take.

The page, the home page's "what awaits me" and the demo read the same facts from here and
from `onboarding`, `user_agreements` and `training`; nothing here changes data.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Deadline, DocumentVersion, Onboarding, User
from portal.services import deadlines, onboarding, training_progress, user_agreements
from portal.services.next_steps import NextSteps, state_of
from portal.services.timefmt import local_datetime
from portal.services.training_progress import CourseProgress
from workflows.onboarding import ONBOARDING


@dataclass(frozen=True)
class Item:
    """One line of the checklist: what, whether it is done, and in words how it stands."""

    label: str
    done: bool
    detail: str


@dataclass(frozen=True)
class OnboardingPage:
    onboarding: Onboarding
    state_label: str
    checklist: list[Item]
    courses: list[CourseProgress]
    deadline: Deadline | None
    deadline_words: str
    document: DocumentVersion | None
    text: str
    steps: NextSteps
    is_new_user: bool
    needs_consent: bool


def _checklist(row: Onboarding) -> list[Item]:
    person = row.user
    signed, approved = row.user_signed_at, row.approved_at
    items = [
        Item(
            "Password set",
            person.password_hash is not None,
            "Done." if person.password_hash else "Waiting for the invitation to be used.",
        ),
        Item(
            "HMIS User Agreement signed",
            signed is not None,
            f"Signed by {person.name} on {local_datetime(signed)}."
            if signed
            else f"Waiting for {person.name} to sign.",
        ),
        Item(
            "HMIS User Agreement approved for the agency",
            approved is not None,
            f"Approved by {row.approved_by.name} on {local_datetime(approved)}."
            if approved and row.approved_by
            else "Waiting for the agency's executive director or security officer.",
        ),
    ]
    return items


def _deadline(row: Onboarding) -> tuple[Deadline | None, str]:
    pending = deadlines.pending_for(ONBOARDING.name, row.id)
    if not pending:
        return None, ""
    first = pending[0]
    what = {
        "invited": "The invitation expires",
        "signing": "The request to sign the user agreement expires",
    }.get(first.state, "The training window ends")
    return first, f"{what} {local_datetime(first.due_at)} ({first.rule_text})."


def page(viewer: User, onboarding_id: int) -> OnboardingPage:
    row = onboarding.get(viewer, onboarding_id)
    deadline, words = _deadline(row)
    document = row.document.current if row.document is not None else None
    return OnboardingPage(
        onboarding=row,
        state_label=state_of(row).label,
        checklist=_checklist(row),
        courses=training_progress.required_progress(row.user),
        deadline=deadline,
        deadline_words=words,
        document=document,
        text=user_agreements.text(row),
        steps=onboarding.next_steps(row, viewer),
        is_new_user=viewer.id == row.user_id,
        needs_consent=viewer.esign_consent_at is None,
    )

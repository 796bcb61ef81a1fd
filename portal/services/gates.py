"""The four conditions of IV.B.4 under which the lead agency issues an HMIS account.

One function, `for_request`, decides them; the access request page shows each one, met or
not and why, the issue button names what is missing, `access_requests.issue` refuses on it,
and the API and the demo read it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import AccessRequest
from portal.services import agreements, fees, standing, training_progress
from portal.services.timefmt import local_date, long_date, short_date
from workflows.agreement import AGREEMENT


@dataclass(frozen=True)
class Gate:
    """One condition: its letter in IV.B.4, what it asks, whether it holds, and why."""

    letter: str
    title: str
    met: bool
    why: str


def for_request(request_row: AccessRequest) -> list[Gate]:
    return [
        _agreement(request_row),
        _fee(request_row),
        _user_agreement(request_row),
        _training(request_row),
    ]


def all_met(gates: list[Gate]) -> bool:
    return all(gate.met for gate in gates)


def missing(gates: list[Gate]) -> str | None:
    """What stands in the way of issuing, in one sentence, or None when nothing does."""
    unmet = [gate for gate in gates if not gate.met]
    if not unmet:
        return None
    return "Cannot issue yet: " + " ".join(f"({g.letter}) {g.why}" for g in unmet)


def _agreement(request_row: AccessRequest) -> Gate:
    title = "The agency's agreement is in effect"
    agency = request_row.agency
    current = agreements.in_effect(agency)
    if current is None:
        latest = request_row.agreement
        state = AGREEMENT.state(latest.state).label.lower() if latest else "missing"
        return Gate("a", title, False, f"{agency.legal_name} has no agreement in effect ({state}).")
    suspension = standing.active_for_agency(agency.id)
    if suspension is not None:
        return Gate(
            "a",
            title,
            False,
            f"{agency.legal_name}'s access is suspended since "
            f"{short_date(local_date(suspension.started_at))} pending an investigation.",
        )
    return Gate(
        "a", title, True, f"{current.reference} in effect since {long_date(current.effective_on)}."
    )


def _fee(request_row: AccessRequest) -> Gate:
    fee = fees.standing(request_row.agency)
    return Gate(
        "b", "This year's participation fee is paid, waived or not due", fee.settled, fee.why
    )


def _user_agreement(request_row: AccessRequest) -> Gate:
    title = "The signed HMIS User Agreement is on file"
    onboarding = request_row.onboarding
    if onboarding is None or onboarding.document_id is None:
        return Gate("c", title, False, "The HMIS User Agreement has not been prepared.")
    if onboarding.user_signed_at is None:
        return Gate("c", title, False, f"{request_row.name} has not signed the user agreement.")
    if onboarding.approved_at is None:
        return Gate(
            "c",
            title,
            False,
            "The agency's executive director or security officer has not approved the "
            "signed user agreement.",
        )
    approver = onboarding.approved_by.name if onboarding.approved_by else "the agency"
    return Gate(
        "c",
        title,
        True,
        f"Signed by {request_row.name} and approved by {approver} "
        f"on {short_date(local_date(onboarding.approved_at))}.",
    )


def _training(request_row: AccessRequest) -> Gate:
    title = "The required courses are completed and their tests passed"
    required = training_progress.required_progress(request_row.user)
    left = [p for p in required if not p.done]
    if not required:
        return Gate("d", title, True, "No course is required.")
    if left:
        names = "; ".join(f"{p.course.title}: {p.detail}" for p in left)
        return Gate("d", title, False, f"Not complete — {names}")
    return Gate(
        "d",
        title,
        True,
        "All required courses are complete: " + ", ".join(p.course.title for p in required) + ".",
    )

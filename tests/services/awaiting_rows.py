"""Access requests and onboardings as rows, for tests of what awaits people (the request and
onboarding services have tests of their own): an open request for a new HMIS user, with its
onboarding in a given state and the transitions that history reads."""

from __future__ import annotations

from datetime import datetime

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, Agency, Agreement, Onboarding, Transition, User
from tests import factories


def _transition(case_type: str, case, target: str, actor: User, at: datetime) -> None:
    db.session.add(
        Transition(
            case_type=case_type,
            case_id=case.id,
            event="create",
            source="",
            target=target,
            at=at,
            actor_id=actor.id,
            actor_role=actor.role,
            ip="192.0.2.1",
            user_agent="tests",
        )
    )


def open_request(
    agency: Agency,
    agreement: Agreement,
    requester: User,
    *,
    email: str,
    name: str = "Nia Newuser",
    onboarding_state: str = "approval",
    at: datetime | None = None,
) -> AccessRequest:
    """A request in progress for a new HMIS user who has set a password, with the onboarding
    in `onboarding_state` since `at` (default now)."""
    at = at or clock.now()
    user = factories.person(
        agency, email=email, name=name, title="Case Manager", role="agency_user"
    )
    row = AccessRequest(
        reference=f"AR-{agency.id:04d}-{user.id:03d}",
        agency_id=agency.id,
        agreement_id=agreement.id,
        state="in_progress",
        user_id=user.id,
        name=name,
        email=email,
        job_title="Case Manager",
        hmis_role="case_manager",
        programs="Shelter",
        requested_at=at,
        requested_by_id=requester.id,
    )
    db.session.add(row)
    db.session.flush()
    _transition("access_request", row, row.state, requester, at)
    onboarding = Onboarding(
        access_request_id=row.id,
        agency_id=agency.id,
        user_id=user.id,
        state=onboarding_state,
        started_at=at,
    )
    db.session.add(onboarding)
    db.session.flush()
    _transition("onboarding", onboarding, onboarding_state, requester, at)
    db.session.commit()
    return row

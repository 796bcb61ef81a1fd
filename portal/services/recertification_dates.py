"""When an HMIS user's user agreement and privacy and security training lapse (issue 8).

The agreement lapses USER_AGREEMENT_VALID_DAYS after its approval or its latest renewal; the
training TRAINING_VALID_DAYS after the person last passed the privacy and security test (or,
before that course existed, after their onboarding's training). A recertification lapses at
the end of the earlier day, in the lead agency's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AccessRequest, Course, Onboarding, Recertification, TestAttempt, User
from portal.services.timefmt import lead_tz, local_date
from workflows.calendar import END_OF_DAY

PRIVACY_COURSE = "privacy-security"  # the shipped Privacy & Security course's code


@dataclass(frozen=True)
class Lapses:
    """When one person's user agreement and training lapse, and the earlier, as an instant."""

    user_agreement_on: date
    training_on: date

    @property
    def first_on(self) -> date:
        return min(self.user_agreement_on, self.training_on)

    @property
    def at(self) -> datetime:
        """The end of the first lapse day in the lead agency's time zone (DST-safe)."""
        local = datetime.combine(self.first_on, END_OF_DAY, tzinfo=lead_tz()).replace(fold=1)
        return local.astimezone(UTC)


def privacy_course() -> Course | None:
    return db.session.scalar(select(Course).where(Course.code == PRIVACY_COURSE))


def last_passed(user: User, since: datetime | None = None) -> datetime | None:
    """When the person last passed the privacy and security test (after `since`, if given)."""
    course = privacy_course()
    if course is None:
        return None
    when = func.coalesce(TestAttempt.submitted_at, TestAttempt.started_at)
    query = select(func.max(when)).where(
        TestAttempt.user_id == user.id,
        TestAttempt.course_id == course.id,
        TestAttempt.passed.is_(True),
    )
    if since is not None:
        query = query.where(when >= since)
    found = db.session.scalar(query)
    return found.replace(tzinfo=UTC) if found is not None and found.tzinfo is None else found


def issued_onboarding(user: User) -> Onboarding | None:
    """The onboarding of the person's issued HMIS access (their first user agreement)."""
    query = (
        select(Onboarding)
        .join(AccessRequest, Onboarding.access_request_id == AccessRequest.id)
        .where(AccessRequest.user_id == user.id, AccessRequest.state == "issued")
        .order_by(AccessRequest.id.desc())
    )
    return db.session.scalars(query).first()


def lapses_of(user: User) -> Lapses | None:
    """When the person's user agreement and training lapse, or None without issued access.

    The agreement counts from its approval or its latest renewal; the training from the
    person's last pass of the privacy and security test (or, before that course existed,
    from the end of their onboarding's training)."""
    onboarding_row = issued_onboarding(user)
    if onboarding_row is None:
        return None
    renewed = db.session.scalar(
        select(func.max(Recertification.user_agreement_renewed_at)).where(
            Recertification.user_id == user.id
        )
    )
    signed = [t for t in (onboarding_row.approved_at, renewed) if t is not None]
    issued = onboarding_row.request.issued_at or onboarding_row.started_at
    agreement_base = max((aware(t) for t in signed), default=aware(issued))
    trained = last_passed(user) or onboarding_row.training_completed_at or issued
    cfg = current_app.config
    return Lapses(
        local_date(agreement_base) + timedelta(days=cfg["USER_AGREEMENT_VALID_DAYS"]),
        local_date(aware(trained)) + timedelta(days=cfg["TRAINING_VALID_DAYS"]),
    )


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

"""Training tests (V.E.5–6): started, answered and scored in the portal, or recorded by the
lead agency from a test taken elsewhere.

What each person has done and what is left is `training_progress` (read by the gates of
IV.B.4 (d) and the onboarding pages); every result (a submitted test, a recorded score) tells
the onboarding in the same transaction, so it moves on when the last required course is done.
Courses and their question banks are kept in `training_admin`, sessions in
`training_sessions`.

Rules of a test, decided here once:
- An attempt draws `questions_per_test` active questions at random (fewer when the bank is
  smaller) and must be submitted within `minutes_per_attempt`. A submission after the time
  limit is kept and scored but counts as failed, noted "Submitted after the time limit".
  An attempt never submitted counts as failed once its time is up.
- Each attempt counts against `max_attempts`, recorded scores included. Starting again
  while an attempt is open gives back the open one.
- The score is the percentage of right answers, rounded down (79.5 % is 79 %); a blank
  answer is wrong. Passed means score >= the course's pass mark.
- A result page shows which questions were answered wrong; the right answers are shown
  only once the person has passed the course, so they cannot be collected for a retake.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Course, Question, TestAttempt, User
from portal.services import audit, onboarding, training_progress
from portal.services.access import RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.timefmt import lead_tz, local_date, short_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text
from workflows.parties import ROLE_NAMES

# Ids beyond a database integer are no record of ours (and must not reach the driver).
MAX_ID = 2**31 - 1
LATE_NOTE = "Submitted after the time limit."
UNSUBMITTED_NOTE = "Not submitted within the time limit."

_random = random.SystemRandom()


# Anyone with an account may take a test; a suspended person cannot log in at all.
_TAKERS = tuple(ROLE_NAMES)


def tell_onboarding(user: User, request: RequestInfo) -> None:
    """After any result, in the caller's transaction: the onboarding moves on when the last
    required course is complete."""
    complete = training_progress.required_complete(user)
    onboarding.note_training(user, complete=complete, request=request)


# -- reading ---------------------------------------------------------------------------


def get_course(course_id: int, *, active_only: bool = True) -> Course:
    course = db.session.get(Course, course_id) if 0 < course_id <= MAX_ID else None
    if course is None or (active_only and not course.active):
        raise NotFound()
    return course


def attempts_of(user: User, course: Course) -> list[TestAttempt]:
    query = select(TestAttempt).where(
        TestAttempt.user_id == user.id, TestAttempt.course_id == course.id
    )
    return list(db.session.scalars(query.order_by(TestAttempt.id)))


def is_open(attempt: TestAttempt, now: datetime | None = None) -> bool:
    """Not submitted, and its time is not up."""
    now = now or clock.now()
    return (
        attempt.source == "portal"
        and attempt.submitted_at is None
        and attempt.expires_at is not None
        and now < attempt.expires_at
    )


def get_attempt(user: User, attempt_id: int) -> TestAttempt:
    """The person's own attempt; anyone else's id is NotFound (the lead agency's admins read
    attempts through the course pages)."""
    attempt = db.session.get(TestAttempt, attempt_id) if 0 < attempt_id <= MAX_ID else None
    if attempt is None or attempt.user_id != user.id:
        raise NotFound()
    return attempt


def questions_of(attempt: TestAttempt) -> list[Question]:
    """The attempt's questions in the order they were drawn (retired ones included)."""
    rows = {
        q.id: q
        for q in db.session.scalars(select(Question).where(Question.id.in_(attempt.question_ids)))
    }
    return [rows[qid] for qid in attempt.question_ids if qid in rows]


def refusal_to_start(user: User, course: Course, attempts: list[TestAttempt]) -> str | None:
    """Why the person may not start a new attempt now, or None. (An open attempt is not a
    refusal: starting gives it back.)"""
    now = clock.now()
    if any(a.passed for a in attempts):
        return f"You have already passed {course.title}."
    if any(is_open(a, now) for a in attempts):
        return None
    if len(attempts) >= course.max_attempts:
        return (
            f"You have used all {course.max_attempts} attempts. "
            f"Contact {lead_agency_name()}'s HMIS team."
        )
    if not any(q.active for q in course.questions):
        return f"The test of {course.title} has no questions yet. Contact {lead_agency_name()}."
    return onboarding.refusal_to_train(user)


# -- taking a test ---------------------------------------------------------------------


def _lock_person(user: User) -> None:
    """Serializes one person's starts and results (PostgreSQL), so two tabs cannot start two
    attempts past the limit."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


def _close_unsubmitted(attempts: list[TestAttempt], now: datetime, request: RequestInfo) -> None:
    """Records as failed the attempts whose time ran out unsubmitted (found on the next
    start; until then the pages already show them as not submitted in time)."""
    for attempt in attempts:
        unsubmitted = attempt.source == "portal" and attempt.submitted_at is None
        if unsubmitted and attempt.passed is None and not is_open(attempt, now):
            attempt.passed, attempt.note = False, UNSUBMITTED_NOTE
            audit.record(
                None,
                "training.test_expired",
                attempt,
                f"The time ran out on {attempt.user.name}'s test of {attempt.course.title}: "
                "not passed",
                agency_id=attempt.user.agency_id,
                after={"passed": False},
                request=request,
                at=now,
            )


def start_attempt(user: User, course_id: int, *, request: RequestInfo) -> TestAttempt:
    """Starts a test of the course, or gives back the attempt already open."""
    require_role(user, *_TAKERS)
    with unit_of_work():
        course = get_course(course_id)
        _lock_person(user)
        now = clock.now()
        attempts = attempts_of(user, course)
        _close_unsubmitted(attempts, now, request)
        already = next((a for a in attempts if is_open(a, now)), None)
        if already is not None and not any(a.passed for a in attempts):
            return already
        why = refusal_to_start(user, course, attempts)
        if why:
            raise ServiceError(why)
        attempt = new_attempt(user, course, now)
        drawn = attempt.question_ids
        audit.record(
            user,
            "training.start_test",
            attempt,
            f"Started the test of {course.title} (attempt {len(attempts) + 1} of "
            f"{course.max_attempts}, {len(drawn)} questions)",
            agency_id=user.agency_id,
            after={"questions": drawn, "expires_at": attempt.expires_at.isoformat()},
            request=request,
            at=now,
        )
    return attempt


def new_attempt(user: User, course: Course, now: datetime) -> TestAttempt:
    """A portal attempt at the course's test, in the caller's transaction: its questions
    drawn at random from the active bank, its time limit from the course."""
    bank = [q.id for q in course.questions if q.active]
    drawn = _random.sample(bank, min(course.questions_per_test, len(bank)))
    attempt = TestAttempt(
        course_id=course.id,
        user_id=user.id,
        source="portal",
        started_at=now,
        expires_at=now + timedelta(minutes=course.minutes_per_attempt),
        question_ids=drawn,
        answers={},
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _clean_answers(
    attempt: TestAttempt, questions: list[Question], answers: Mapping
) -> dict[str, int]:
    numbers = {str(q.id): (n, q) for n, q in enumerate(questions, start=1)}
    chosen: dict[str, int] = {}
    for key, value in answers.items():
        if str(key) not in numbers:
            raise ServiceError("An answer was given to a question that is not in this test.")
        n, question = numbers[str(key)]
        raw = str(value).strip()
        if raw == "":
            continue  # left blank: counted wrong
        if not (raw.isdigit() and len(raw) <= 2 and int(raw) < len(question.choices)):
            raise ServiceError(f"Your answer to question {n} is not one of its choices.")
        chosen[str(question.id)] = int(raw)
    return chosen


def score_of(questions: list[Question], chosen: Mapping[str, int]) -> int:
    if not questions:
        return 0
    right = sum(1 for q in questions if chosen.get(str(q.id)) == q.correct)
    return right * 100 // len(questions)


def submit_attempt(
    user: User, attempt_id: int, answers: Mapping, *, request: RequestInfo
) -> TestAttempt:
    """Scores the person's answers. Submitting again gives back the first result."""
    with unit_of_work():
        attempt = get_attempt(user, attempt_id)
        db.session.execute(
            select(TestAttempt.id).where(TestAttempt.id == attempt.id).with_for_update()
        )
        db.session.refresh(attempt)
        if attempt.source != "portal":
            raise ServiceError(
                "This score was recorded by the lead agency; there is nothing to submit."
            )
        if attempt.submitted_at is not None:
            return attempt  # a replay (a double click, a reload): the same result
        questions = questions_of(attempt)
        chosen = _clean_answers(attempt, questions, answers)
        now = clock.now()
        late = attempt.expires_at is not None and now > attempt.expires_at
        course = attempt.course
        attempt.answers, attempt.submitted_at = chosen, now
        attempt.score = score_of(questions, chosen)
        attempt.passed = not late and attempt.score >= course.pass_mark
        attempt.note = LATE_NOTE if late else ""
        verdict = "passed" if attempt.passed else "not passed"
        audit.record(
            user,
            "training.submit_test",
            attempt,
            f"Submitted the test of {course.title}: {attempt.score} %, {verdict}"
            + (" (after the time limit)" if late else ""),
            agency_id=user.agency_id,
            after={"score": attempt.score, "passed": attempt.passed, "late": late},
            request=request,
            at=now,
        )
        tell_onboarding(user, request)
    return attempt


# -- a score from a test taken elsewhere -----------------------------------------------


def record_score(
    admin: User,
    user_id: int,
    course_id: int,
    score: int,
    taken_on: date,
    note: str,
    *,
    request: RequestInfo,
) -> TestAttempt:
    """The lead agency records a test taken elsewhere; it counts like a portal attempt
    (towards the limit too), but is not refused when the person's portal attempts are used
    up: recording one is the way forward that the refusal points to. `taken_on` is kept as
    the start of that day in the lead agency's time zone."""
    require_role(admin, "ssf_admin", message="Only the lead agency's HMIS admins record scores.")
    with unit_of_work():
        person = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
        if person is None:
            raise NotFound()
        course = get_course(course_id)
        if not isinstance(score, int) or not 0 <= score <= 100:
            raise ServiceError("The score is a percentage from 0 to 100.")
        today = local_date(clock.now())
        if taken_on > today:
            raise ServiceError("The test cannot have been taken after today.")
        if (today - taken_on).days > 5 * 366:
            raise ServiceError(
                "The test was taken more than five years ago; it cannot be recorded."
            )
        why = clean_text(note, "Note", max_len=2000, multiline=True, required=False)
        _lock_person(person)
        attempts = attempts_of(person, course)
        if any(a.passed for a in attempts):
            raise ServiceError(f"{person.name} has already passed {course.title}.")
        now = clock.now()
        attempt = TestAttempt(
            course_id=course.id,
            user_id=person.id,
            source="recorded",
            started_at=datetime.combine(taken_on, time(0), tzinfo=lead_tz()),
            submitted_at=now,
            question_ids=[],
            answers={},
            score=score,
            passed=score >= course.pass_mark,
            recorded_by_id=admin.id,
            note=why,
        )
        db.session.add(attempt)
        db.session.flush()
        audit.record(
            admin,
            "training.record_score",
            attempt,
            f"Recorded {person.name}'s test of {course.title} taken on {short_date(taken_on)}: "
            f"{score} %, {'passed' if attempt.passed else 'not passed'}",
            agency_id=person.agency_id,
            after={"score": score, "passed": attempt.passed, "taken_on": taken_on.isoformat()},
            request=request,
            at=now,
        )
        tell_onboarding(person, request)
    return attempt

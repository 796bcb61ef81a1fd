"""The lead agency keeps its courses (V.E.5–6): each one's settings and its question bank.

Questions are added and retired, never edited or deleted: an attempt keeps the ids of the
questions it drew, and its result must read the same years later.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Course, Question, User
from portal.services import audit
from portal.services.access import RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.hmis_roles import HMIS_ROLES
from portal.services.training import MAX_ID, get_course
from portal.services.unit import unit_of_work
from portal.services.validation import clean_email, clean_text, max_length

READERS = ("ssf_admin", "ssf_signatory", "auditor")
ADMIN_ONLY = "Only the lead agency's HMIS admins keep the courses."
COLUMNS = Course.__table__.c
MIN_CHOICES, MAX_CHOICES = 2, 6
QUESTION_MAX, CHOICE_MAX = 2000, 500

# Each setting's limits, in the words the course form shows.
LIMITS = {
    "pass_mark": (1, 100, "The pass mark is a percentage from 1 to 100."),
    "questions_per_test": (1, 100, "Questions per test are from 1 to 100."),
    "max_attempts": (1, 20, "Attempts allowed are from 1 to 20."),
    "minutes_per_attempt": (5, 480, "Minutes per attempt are from 5 to 480."),
}


@dataclass(frozen=True)
class CourseSettings:
    title: str
    description: str = ""
    required: bool = False
    hmis_role: str = ""
    session_required: bool = False
    pass_mark: int = 80
    questions_per_test: int = 10
    max_attempts: int = 3
    minutes_per_attempt: int = 30
    active: bool = True


def defaults(title: str = "") -> CourseSettings:
    """A new course's settings: the pass mark and attempts from the portal's settings."""
    config = current_app.config
    return CourseSettings(
        title=title,
        pass_mark=config["TRAINING_PASS_MARK"],
        max_attempts=config["TRAINING_MAX_ATTEMPTS"],
    )


def hmis_roles() -> dict[str, str]:
    """The HMIS roles a refresher can be meant for (the access request's list)."""
    return HMIS_ROLES


def require_admin(user: User) -> None:
    """Only the lead agency's HMIS admins change courses (its other staff read them)."""
    require_role(user, "ssf_admin", message=ADMIN_ONLY)


def courses(viewer: User) -> list[Course]:
    """Every course, offered or not, required ones first."""
    require_role(viewer, *READERS)
    query = select(Course).order_by(Course.active.desc(), Course.required.desc(), Course.title)
    return list(db.session.scalars(query))


def course(viewer: User, course_id: int) -> Course:
    require_role(viewer, *READERS)
    return get_course(course_id, active_only=False)


def _clean(settings: CourseSettings) -> CourseSettings:
    title = clean_text(settings.title, "Title", max_len=max_length(COLUMNS.title))
    description = clean_text(
        settings.description, "Description", max_len=4000, multiline=True, required=False
    )
    role = (settings.hmis_role or "").strip()
    if role and role not in hmis_roles():
        raise ServiceError("Choose an HMIS role from the list, or none.")
    if settings.required and role:
        raise ServiceError(
            "A required course is for every new user: leave its HMIS role empty "
            "(a role is for a refresher)."
        )
    for name, (low, high, message) in LIMITS.items():
        value = getattr(settings, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ServiceError(message)
    return CourseSettings(
        title=title,
        description=description,
        required=bool(settings.required),
        hmis_role=role,
        session_required=bool(settings.session_required),
        pass_mark=settings.pass_mark,
        questions_per_test=settings.questions_per_test,
        max_attempts=settings.max_attempts,
        minutes_per_attempt=settings.minutes_per_attempt,
        active=bool(settings.active),
    )


def _code_for(title: str) -> str:
    """A short unique code from the title (the seeded courses have fixed ones)."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:30] or "course"
    code, n = base, 1
    while db.session.scalar(select(Course.id).where(Course.code == code)) is not None:
        n += 1
        code = f"{base}-{n}"
    return code


def add_course(
    settings: CourseSettings, *, code: str | None, actor: User | None, request: RequestInfo
) -> Course:
    """Adds a course in the caller's transaction (the catalog's seeding uses it too)."""
    clean = _clean(settings)
    row = Course(code=code or _code_for(clean.title), created_at=clock.now(), **asdict(clean))
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "training.course_create",
        row,
        f"Added the course {row.title}" + (" (required)" if row.required else ""),
        agency_id=None,
        after=asdict(clean),
        request=request,
    )
    return row


def create_course(admin: User, settings: CourseSettings, *, request: RequestInfo) -> Course:
    require_admin(admin)
    with unit_of_work("A course with that code was added at the same time. Try again."):
        row = add_course(settings, code=None, actor=admin, request=request)
    return row


def update_course(
    admin: User, course_id: int, settings: CourseSettings, *, request: RequestInfo
) -> Course:
    require_admin(admin)
    with unit_of_work():
        row = get_course(course_id, active_only=False)
        clean = asdict(_clean(settings))
        before = {name: getattr(row, name) for name in clean}
        changed = {name for name, value in clean.items() if before[name] != value}
        if not changed:
            raise ServiceError("Nothing was changed.")
        for name in changed:
            setattr(row, name, clean[name])
        audit.record(
            admin,
            "training.course_update",
            row,
            f"Changed the course {row.title}: {', '.join(sorted(changed))}",
            agency_id=None,
            before={n: before[n] for n in sorted(changed)},
            after={n: clean[n] for n in sorted(changed)},
            request=request,
        )
    return row


def _clean_question(text: str, choices: list[str], correct: int) -> tuple[str, list[str], int]:
    """The question's text and its non-blank choices; `correct` is the position among the
    choices as given (blanks included), so a form with an empty middle box still works."""
    body = clean_text(text, "The question", max_len=QUESTION_MAX, multiline=True)
    kept: list[str] = []
    right: int | None = None
    for position, choice in enumerate(choices):
        cleaned = clean_text(choice, f"Choice {position + 1}", max_len=CHOICE_MAX, required=False)
        if not cleaned:
            continue
        if cleaned in kept:
            raise ServiceError(f"Choice {position + 1} repeats another choice.")
        if position == correct:
            right = len(kept)
        kept.append(cleaned)
    if not MIN_CHOICES <= len(kept) <= MAX_CHOICES:
        raise ServiceError(f"A question has {MIN_CHOICES} to {MAX_CHOICES} choices.")
    if right is None:
        raise ServiceError("Mark which of the filled-in choices is the correct one.")
    return body, kept, right


def add_question_row(
    course: Course,
    text: str,
    choices: list[str],
    correct: int,
    *,
    actor: User | None,
    request: RequestInfo,
) -> Question:
    """Adds a question in the caller's transaction."""
    body, kept, right = _clean_question(text, choices, correct)
    question = Question(course_id=course.id, text=body, choices=kept, correct=right, active=True)
    db.session.add(question)
    db.session.flush()
    audit.record(
        actor,
        "training.question_add",
        question,
        f"Added a question to {course.title}",
        agency_id=None,
        after={"text": body, "choices": kept, "correct": right},
        request=request,
    )
    return question


def add_question(
    admin: User,
    course_id: int,
    *,
    text: str,
    choices: list[str],
    correct: int,
    request: RequestInfo,
) -> Question:
    require_admin(admin)
    with unit_of_work():
        row = get_course(course_id, active_only=False)
        question = add_question_row(row, text, choices, correct, actor=admin, request=request)
    return question


def retire_question(admin: User, question_id: int, *, request: RequestInfo) -> Question:
    """Takes a question out of new tests; attempts that drew it keep it."""
    require_admin(admin)
    with unit_of_work():
        question = db.session.get(Question, question_id) if 0 < question_id <= MAX_ID else None
        if question is None:
            raise NotFound()
        if not question.active:
            raise ServiceError("That question is already retired.")
        question.active = False
        audit.record(
            admin,
            "training.question_retire",
            question,
            f"Retired a question of {question.course.title}",
            agency_id=None,
            before={"active": True},
            after={"active": False},
            request=request,
        )
    return question


def active_questions(row: Course) -> list[Question]:
    return [q for q in row.questions if q.active]


def person_by_email(admin: User, email: str) -> User:
    """The person a score is recorded for, found by their e-mail."""
    require_role(admin, "ssf_admin", message="Only the lead agency's HMIS admins record scores.")
    address = clean_email(email, "The person's e-mail")
    person = db.session.scalar(select(User).where(User.email == address))
    if person is None:
        raise ServiceError(f"No one in the portal has the e-mail {address}.")
    return person

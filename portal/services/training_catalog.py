"""The courses the portal ships, with their question banks, written for this project.

`seed_if_missing()` adds each shipped course that is not there yet (by its code) and is safe
to run on every start. After that the lead agency keeps the courses in the portal: a seeded
course is never overwritten, so its admins' changes stay.

The banks are in `training_banks`, with the right answer written first; seeding moves it
to a place taken from the question's text (`_placed`), so the stored choices do not give it
away by position.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sqlalchemy import select

from portal.extensions import db
from portal.models import Course
from portal.services import training_admin
from portal.services.access import SYSTEM
from portal.services.training_banks import SHIPPED
from portal.services.unit import unit_of_work


def seed_if_missing() -> list[Course]:
    """Adds each shipped course that is not there yet; returns the ones it added."""
    added: list[Course] = []
    with unit_of_work():
        for shipped in SHIPPED:
            if db.session.scalar(select(Course.id).where(Course.code == shipped.code)):
                continue
            settings = replace(
                training_admin.defaults(shipped.title),
                description=shipped.description,
                required=shipped.required,
                hmis_role=shipped.hmis_role,
                questions_per_test=10,
            )
            course = training_admin.add_course(
                settings, code=shipped.code, actor=None, request=SYSTEM
            )
            for text, choices, correct in shipped.questions:
                placed, right = _placed(text, choices, correct)
                training_admin.add_question_row(
                    course, text, placed, right, actor=None, request=SYSTEM
                )
            added.append(course)
    return added


def _placed(text: str, choices: tuple[str, ...], correct: int) -> tuple[list[str], int]:
    """The choices turned around so the right one sits at a position that depends on the
    question (the same on every install), and its new index."""
    shift = int(hashlib.sha256(text.encode()).hexdigest(), 16) % len(choices)
    placed = list(choices[shift:] + choices[:shift])
    return placed, placed.index(choices[correct])

"""The lead agency keeps its courses and question banks; the portal ships its own courses."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Course, Question
from portal.services import training_admin, training_catalog
from portal.services.errors import Forbidden, NotFound, ServiceError
from tests.services.helpers import REQ
from tests.support.training import seed_courses


def test_the_shipped_courses_are_seeded_once(app, cast):
    courses = seed_courses()
    titles = {c.title: c for c in courses}
    assert {"New HMIS User", "Privacy & Security", "Intake refresher"} <= titles.keys()
    assert titles["New HMIS User"].required and titles["Privacy & Security"].required
    refresher = titles["Intake refresher"]
    assert not refresher.required and refresher.hmis_role == "intake"
    for row in courses:
        assert row.pass_mark == app.config["TRAINING_PASS_MARK"]
        assert row.max_attempts == app.config["TRAINING_MAX_ATTEMPTS"]
        assert 10 <= len(row.questions) <= 12
        for q in row.questions:
            assert 2 <= len(q.choices) <= 6 and 0 <= q.correct < len(q.choices)
    # The right answer does not always sit in the same place.
    assert len({q.correct for row in courses for q in row.questions}) >= 3
    assert training_catalog.seed_if_missing() == []
    assert db.session.scalar(select(func.count()).select_from(Course)) == len(courses)


def test_an_admin_adds_and_edits_a_course(app, cast):
    settings = replace(training_admin.defaults("Case manager refresher"), hmis_role="case_manager")
    row = training_admin.create_course(cast.admin, settings, request=REQ)
    assert (row.code, row.pass_mark, row.required) == ("case-manager-refresher", 80, False)
    again = training_admin.create_course(cast.admin, settings, request=REQ)
    assert again.code == "case-manager-refresher-2"
    changed = replace(settings, pass_mark=90, max_attempts=5, active=False)
    training_admin.update_course(cast.admin, row.id, changed, request=REQ)
    assert (row.pass_mark, row.max_attempts, row.active) == (90, 5, False)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "training.course_update")
    ).one()
    assert event.before == {"active": True, "max_attempts": 3, "pass_mark": 80}
    with pytest.raises(ServiceError, match="Nothing was changed"):
        training_admin.update_course(cast.admin, row.id, changed, request=REQ)
    for bad, message in (
        (replace(settings, pass_mark=0), "pass mark"),
        (replace(settings, pass_mark=101), "pass mark"),
        (replace(settings, max_attempts=0), "Attempts"),
        (replace(settings, questions_per_test=0), "Questions per test"),
        (replace(settings, minutes_per_attempt=1), "Minutes"),
        (replace(settings, hmis_role="pilot"), "HMIS role"),
        (replace(settings, required=True), "leave its HMIS role empty"),
        (replace(settings, title=" "), "Title is required"),
        (replace(settings, title="x" * 5000), "at most 200 characters; you entered 5,000"),
    ):
        with pytest.raises(ServiceError, match=message):
            training_admin.create_course(cast.admin, bad, request=REQ)
    for person in (cast.signatory, cast.auditor, cast.ed):
        with pytest.raises(Forbidden):
            training_admin.create_course(person, settings, request=REQ)
    assert training_admin.courses(cast.auditor)
    with pytest.raises(Forbidden):
        training_admin.courses(cast.ed)
    with pytest.raises(NotFound):
        training_admin.course(cast.admin, 2**63)


def test_questions_take_two_to_six_choices_and_are_retired_never_deleted(app, cast):
    row = training_admin.create_course(cast.admin, training_admin.defaults("T"), request=REQ)

    def add(choices, correct, text="Which is right?"):
        return training_admin.add_question(
            cast.admin, row.id, text=text, choices=choices, correct=correct, request=REQ
        )

    # Blank boxes are dropped and the marked one is still the right one.
    question = add(["a", "", "c", "  ", "e", ""], 4)
    assert (question.choices, question.correct) == (["a", "c", "e"], 2)
    with pytest.raises(ServiceError, match="2 to 6 choices"):
        add(["only", "", ""], 0)
    with pytest.raises(ServiceError, match="2 to 6 choices"):
        add([str(n) for n in range(7)], 0)
    with pytest.raises(ServiceError, match="Mark which"):
        add(["a", "", "c"], 1)
    with pytest.raises(ServiceError, match="repeats"):
        add(["a", "a"], 0)
    with pytest.raises(ServiceError, match="The question is required"):
        add(["a", "b"], 0, text="")
    with pytest.raises(Forbidden):
        training_admin.add_question(
            cast.auditor, row.id, text="?", choices=["a", "b"], correct=0, request=REQ
        )
    rtl = add(["نعم", "لا"], 1, text="\u202eهل تشارك كلمة المرور؟")
    assert rtl.text == "هل تشارك كلمة المرور؟"  # the bidi override is dropped
    training_admin.retire_question(cast.admin, question.id, request=REQ)
    assert not question.active and db.session.get(Question, question.id) is not None
    assert training_admin.active_questions(row) == [rtl]
    with pytest.raises(ServiceError, match="already retired"):
        training_admin.retire_question(cast.admin, question.id, request=REQ)
    with pytest.raises(NotFound):
        training_admin.retire_question(cast.admin, 2**40, request=REQ)

"""The training pages: a person's own page, taking a test, its result; the lead agency's
course pages; sessions. Every form carries its CSRF token; other people's ids are 404."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import Course, Question, SessionSeat, TestAttempt, TrainingSession
from portal.services import training, training_progress, training_sessions
from tests.conftest import csrf_token
from tests.services.helpers import REQ
from tests.support.training import course, in_training, new_user, seed_courses

NOW = datetime(2030, 3, 4, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def travel():
    # Autouse, so it starts before `cast`: the people and their passwords are made on the
    # travelled day (a password from the real today would be years old by then).
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post(client, url: str, page_url: str, **data):
    """Posts a form the way a browser would: the token taken from the page it is on."""
    token = csrf_token(client.get(page_url))
    return client.post(url, data={"csrf_token": token} | data)


def test_a_new_user_sees_what_is_left_takes_the_test_and_passes_a_retake(app, client, auth, cast):
    seed_courses()
    person = new_user(cast)
    onboarding = in_training(cast, person, hmis_role="intake")
    auth.login(person.email)
    page = text_of(client.get("/training/"))
    assert "0 of 2 required courses" not in page and "2 of 2 required courses left" in page
    for title in ("New HMIS User", "Privacy & Security", "Intake refresher", "For your HMIS role"):
        assert title in page
    assert "Attempts used: 0 of 3" in page and page.count("Start the test") == 3

    new_user_course = db.session.scalar(select(Course).where(Course.code == "new-hmis-user"))
    started = post(client, f"/training/courses/{new_user_course.id}/start", "/training/")
    assert started.status_code == 302
    attempt_url = started.location
    test_page = client.get(attempt_url)
    assert test_page.status_code == 200
    attempt = db.session.scalars(select(TestAttempt)).one()
    questions = training.questions_of(attempt)
    assert len(questions) == 10
    body = text_of(test_page)
    assert all(q.text in body for q in questions)

    wrong = {f"q{q.id}": str((q.correct + 1) % len(q.choices)) for q in questions}
    result = post(client, attempt_url, attempt_url, **wrong)
    assert result.status_code == 302
    page = text_of(client.get(attempt_url))
    assert "0 % — not passed" in page and "Attempts used: 1 of 3" in page
    assert page.count("Wrong") == 10
    assert "The right answers are shown once you have passed" in page
    assert "The right answer:" not in page

    retake = post(client, f"/training/courses/{new_user_course.id}/start", attempt_url)
    second = retake.location
    db.session.expire_all()
    attempt = db.session.get(TestAttempt, int(second.rsplit("/", 1)[1]))
    right = {f"q{q.id}": str(q.correct) for q in training.questions_of(attempt)}
    post(client, second, second, **right)
    page = text_of(client.get(second))
    assert "100 % — passed" in page
    # Replaying the same submission changes nothing.
    assert post(client, second, second, **wrong).status_code == 302
    assert "100 % — passed" in text_of(client.get(second))
    overview = text_of(client.get("/training/"))
    assert "1 of 2 required courses left" in overview
    assert "You have already passed" not in overview  # a passed course says Done instead
    assert "Test passed with 100 %." in overview
    db.session.refresh(onboarding)
    assert onboarding.state == "training"


def test_the_page_says_why_a_test_cannot_start(app, client, auth, cast):
    row = course(cast.admin, questions=2, max_attempts=1)
    person = new_user(cast)
    attempt = training.start_attempt(person, row.id, request=REQ)
    training.submit_attempt(person, attempt.id, {}, request=REQ)
    auth.login(person.email)
    page = text_of(client.get("/training/"))
    lead = app.config["LEAD_AGENCY_NAME"]
    assert f"You have used all 1 attempts. Contact {lead}'s HMIS team." in page
    assert "Start the test" not in page
    refused = post(client, f"/training/courses/{row.id}/start", "/training/")
    assert refused.status_code == 302
    assert "You have used all 1 attempts" in text_of(client.get("/training/"))


def test_other_peoples_attempts_and_seats_are_404(app, client, auth, cast, travel):
    row = course(cast.admin, questions=2)
    person = new_user(cast)
    attempt = training.start_attempt(person, row.id, request=REQ)
    session = training_sessions.schedule(
        cast.admin,
        row.id,
        day=NOW.date() + timedelta(days=7),
        at=datetime.min.time(),
        minutes=60,
        mode="in_person",
        location="Room 1",
        capacity=4,
        request=REQ,
    )
    seat = training_sessions.enrol(person, session.id, request=REQ)
    auth.login("ed@other.test")
    assert client.get(f"/training/attempts/{attempt.id}").status_code == 404
    answers = {f"q{qid}": "0" for qid in attempt.question_ids}
    assert (
        post(client, f"/training/attempts/{attempt.id}", "/training/", **answers).status_code == 404
    )
    assert post(client, f"/training/seats/{seat.id}/withdraw", "/training/").status_code == 404
    enrol = post(
        client, f"/training/sessions/{session.id}/enrol", "/training/", person=str(person.id)
    )
    assert enrol.status_code == 302  # not a choice of this ED's form: refused on the form
    page = text_of(client.get(f"/training/sessions/{session.id}"))
    assert person.name not in page and "Choose whom to enrol" in page
    for url in (
        "/training/attempts/99999999999999999999",
        f"/training/attempts/{2**63}",
        f"/training/sessions/{2**63}",
    ):
        assert client.get(url).status_code == 404, url
    db.session.refresh(attempt)
    assert attempt.submitted_at is None
    assert db.session.query(SessionSeat).count() == 1


def test_a_form_without_its_token_is_refused(app, client, auth, cast):
    row = course(cast.admin, questions=2)
    auth.login("ed@hope.test")
    response = client.post(f"/training/courses/{row.id}/start", data={})
    assert response.status_code == 400
    assert db.session.query(TestAttempt).count() == 0


def test_the_lead_agency_keeps_courses_and_questions_on_its_pages(app, client, auth, cast):
    auth.login("admin@ssf.test")
    assert client.get("/training/courses").status_code == 200
    created = post(
        client,
        "/training/courses/new",
        "/training/courses/new",
        title="Reports refresher",
        description="For people who run reports.",
        hmis_role="reports",
        pass_mark="85",
        questions_per_test="5",
        max_attempts="2",
        minutes_per_attempt="20",
        active="y",
    )
    assert created.status_code == 302
    row = db.session.scalar(select(Course).where(Course.title == "Reports refresher"))
    assert (row.pass_mark, row.hmis_role, row.required, row.active) == (85, "reports", False, True)
    url = f"/training/courses/{row.id}"
    nasty = "<script>alert('x')</script> " + "\u0645\u0627 \u0647\u0648 " + "long " * 300
    added = post(
        client,
        f"{url}/questions",
        url,
        text=nasty,
        choice_1="<b>bold</b>",
        choice_2="\u0644\u0627",
        choice_3="",
        correct="2",
    )
    assert added.status_code == 302
    question = db.session.scalars(select(Question).where(Question.course_id == row.id)).one()
    assert question.correct == 1 and question.choices == ["<b>bold</b>", "\u0644\u0627"]
    raw = client.get(url).get_data(as_text=True)
    assert "<script>alert" not in raw and "&lt;script&gt;alert(" in raw
    assert "<b>bold</b>" not in raw and "&lt;b&gt;bold&lt;/b&gt;" in raw
    # The person taking the test sees it escaped too.
    person = new_user(cast)
    attempt = training.start_attempt(person, row.id, request=REQ)
    auth.logout()
    auth.login(person.email)
    raw = client.get(f"/training/attempts/{attempt.id}").get_data(as_text=True)
    assert "<script>alert" not in raw and "&lt;script&gt;alert(" in raw
    assert "\u0645\u0627 \u0647\u0648" in raw
    auth.logout()

    auth.login("admin@ssf.test")
    too_few = post(
        client, f"{url}/questions", url, text="Q?", choice_1="a", choice_2="", correct="1"
    )
    assert too_few.status_code == 400
    edited = post(
        client,
        f"{url}/edit",
        f"{url}/edit",
        title="Reports refresher",
        description="",
        hmis_role="reports",
        pass_mark="90",
        questions_per_test="5",
        max_attempts="2",
        minutes_per_attempt="20",
        active="y",
    )
    assert edited.status_code == 302
    db.session.refresh(row)
    assert row.pass_mark == 90
    retired = post(client, f"/training/questions/{question.id}/retire", url)
    assert retired.status_code == 302
    db.session.refresh(question)
    assert not question.active and "Retired" in text_of(client.get(url))


def test_an_agency_cannot_reach_the_course_pages(app, client, auth, cast):
    row = course(cast.admin, questions=1)
    before = db.session.query(Course).count()
    auth.login("ed@hope.test")
    assert client.get("/training/courses").status_code == 302
    assert client.get(f"/training/courses/{row.id}").status_code == 302
    response = post(client, "/training/courses/new", "/training/", title="Mine")
    assert response.status_code == 302
    assert "Only the lead agency's HMIS admins keep the courses." in text_of(
        client.get(response.location)
    )
    assert db.session.query(Course).count() == before


def test_sessions_are_scheduled_joined_filled_and_attended(app, client, auth, cast, travel):
    row = course(cast.admin, questions=1, session_required=True)
    person = new_user(cast)
    auth.login("admin@ssf.test")
    url = f"/training/courses/{row.id}/sessions/new"
    assert client.get(url).status_code == 200
    made = post(
        client,
        url,
        url,
        day="2030-03-11",
        at="09:30",
        minutes="90",
        mode="webinar",
        location="https://meet.example.org/hmis",
        capacity="1",
    )
    assert made.status_code == 302
    session = db.session.scalars(select(TrainingSession)).one()
    assert session.starts_at == datetime(2030, 3, 11, 16, 30, tzinfo=UTC)
    page = text_of(client.get(made.location))
    assert "March 11, 2030, 9:30 am PDT" in page and "Seats taken: 0 of 1" in page
    auth.logout()

    auth.login("so@hope.test")
    session_url = f"/training/sessions/{session.id}"
    enrolled = post(client, f"{session_url}/enrol", session_url, person=str(person.id))
    assert enrolled.status_code == 302
    page = text_of(client.get(session_url))
    assert "Nia Newuser is enrolled." in page and "This session is full." in page
    auth.logout()

    auth.login("ed@hope.test")
    assert "No upcoming session has a free seat." in text_of(client.get("/training/"))
    post(client, f"{session_url}/enrol", session_url, person="")
    assert training_sessions.FULL.format(n=1) in text_of(client.get(session_url))
    auth.logout()

    travel.move_to(session.starts_at + timedelta(hours=2))
    auth.login("admin@ssf.test")
    seat = db.session.scalars(select(SessionSeat)).one()
    page = client.get(session_url).get_data(as_text=True)
    assert f'name="seat-{seat.id}"' in page
    saved = post(client, f"{session_url}/attendance", session_url, **{f"seat-{seat.id}": "yes"})
    assert saved.status_code == 302
    db.session.refresh(seat)
    assert seat.attended is True
    auth.logout()
    auth.login(person.email)
    page = text_of(client.get("/training/"))
    assert "attended" in page and "pass the test" in page


def test_cancelling_from_the_page_needs_a_reason(app, client, auth, cast, travel):
    row = course(cast.admin, questions=1)
    session = training_sessions.schedule(
        cast.admin,
        row.id,
        day=NOW.date() + timedelta(days=3),
        at=datetime.min.time(),
        minutes=60,
        mode="in_person",
        location="Room 1",
        capacity=4,
        request=REQ,
    )
    auth.login("admin@ssf.test")
    url = f"/training/sessions/{session.id}"
    post(client, f"{url}/cancel", url, reason="")
    db.session.refresh(session)
    assert session.cancelled_at is None
    post(client, f"{url}/cancel", url, reason="Room flooded")
    db.session.refresh(session)
    assert session.cancelled_at is not None
    assert "This session was cancelled" in text_of(client.get(url))


def test_the_admin_records_a_score_by_e_mail(app, client, auth, cast):
    row = course(cast.admin, questions=1)
    person = new_user(cast)
    auth.login("admin@ssf.test")
    url = f"/training/courses/{row.id}"
    today = training.local_date(training.clock.now()).isoformat()
    missing = post(
        client, f"{url}/record", url, email="nobody@hope.test", score="90", taken_on=today
    )
    assert missing.status_code == 400
    assert "No one in the portal has the e-mail nobody@hope.test." in text_of(missing)
    done = post(
        client,
        f"{url}/record",
        url,
        email=person.email.upper(),
        score="90",
        taken_on=today,
        note="Paper test",
    )
    assert done.status_code == 302
    assert training_progress.required_complete(person)
    assert re.search(r"Recorded Nia Newuser's score: 90 %, passed", text_of(client.get(url)))

"""Training sessions: scheduled in the lead agency's time zone, a capacity that holds under a
race, enrolment by the person or their agency, attendance, and cancelling with e-mail."""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage, SessionSeat
from portal.services import training_sessions
from portal.services.errors import Forbidden, NotFound, ServiceError
from tests import factories
from tests.services.helpers import REQ
from tests.support.training import course, in_training, new_user, pass_test

# A fixed Monday, well in the future of the travelled clock below.
NOW = datetime(2030, 3, 4, 17, 0, tzinfo=UTC)


def schedule(cast, row, *, capacity: int = 2, day=date(2030, 3, 11), at=time(9, 30), **more):
    fields = {"minutes": 90, "mode": "in_person", "location": "1 Main St, Room 4"} | more
    return training_sessions.schedule(
        cast.admin, row.id, day=day, at=at, capacity=capacity, request=REQ, **fields
    )


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_a_session_starts_at_the_local_time_of_the_lead_agency(app, cast, travel):
    assert app.config["LEAD_TIMEZONE"] == "America/Los_Angeles"
    row = course(cast.admin, questions=1)
    session = schedule(cast, row)  # March 11, 2030 is in daylight time: UTC-7
    assert session.starts_at == datetime(2030, 3, 11, 16, 30, tzinfo=UTC)
    with pytest.raises(ServiceError, match="does not exist .* clocks move forward"):
        schedule(cast, row, day=date(2030, 3, 10), at=time(2, 30))
    with pytest.raises(ServiceError, match="in the future"):
        schedule(cast, row, day=date(2030, 3, 1))
    with pytest.raises(ServiceError, match="https://"):
        schedule(cast, row, mode="webinar", location="javascript:alert(1)")
    with pytest.raises(ServiceError, match="capacity"):
        schedule(cast, row, capacity=0)
    with pytest.raises(Forbidden):
        training_sessions.schedule(
            cast.ed,
            row.id,
            day=date(2030, 3, 11),
            at=time(9),
            minutes=60,
            mode="in_person",
            location="x",
            capacity=3,
            request=REQ,
        )
    webinar = schedule(cast, row, mode="webinar", location="https://meet.example.org/hmis")
    assert webinar.location == "https://meet.example.org/hmis"
    assert training_sessions.upcoming() == [session, webinar]


def test_a_full_session_is_refused_with_a_clear_message(app, cast, travel):
    row = course(cast.admin, questions=1)
    session = schedule(cast, row, capacity=2)
    first, second = new_user(cast), new_user(cast, "two@hope.test", "Two")
    training_sessions.enrol(first, session.id, request=REQ)
    with pytest.raises(ServiceError, match="You are already enrolled"):
        training_sessions.enrol(first, session.id, request=REQ)
    training_sessions.enrol(cast.officer, session.id, user_id=second.id, request=REQ)
    with pytest.raises(ServiceError) as refused:
        training_sessions.enrol(cast.ed, session.id, request=REQ)
    assert refused.value.message == training_sessions.FULL.format(n=2)
    assert db.session.query(SessionSeat).count() == 2
    # Giving a seat back frees it.
    seat = training_sessions.seats_of(first)[0]
    training_sessions.withdraw(first, seat.id, request=REQ)
    training_sessions.enrol(cast.ed, session.id, request=REQ)


def test_another_agency_cannot_enrol_or_see_our_people(app, cast, travel):
    row = course(cast.admin, questions=1)
    session = schedule(cast, row, capacity=5)
    person = new_user(cast)
    other_user = factories.person(
        cast.other_agency, email="u@other.test", name="Ola", title="Clerk", role="agency_user"
    )
    with pytest.raises(NotFound):
        training_sessions.enrol(cast.other_ed, session.id, user_id=person.id, request=REQ)
    # A plain user enrols only themselves.
    with pytest.raises(NotFound):
        training_sessions.enrol(other_user, session.id, user_id=cast.other_ed.id, request=REQ)
    seat = training_sessions.enrol(cast.ed, session.id, user_id=person.id, request=REQ)
    training_sessions.enrol(other_user, session.id, request=REQ)
    assert [s.user for s in training_sessions.visible_seats(cast.other_ed, session)] == [other_user]
    assert [s.user for s in training_sessions.visible_seats(cast.officer, session)] == [person]
    assert [s.user for s in training_sessions.visible_seats(person, session)] == [person]
    assert len(training_sessions.visible_seats(cast.auditor, session)) == 2
    with pytest.raises(NotFound):
        training_sessions.withdraw(cast.other_ed, seat.id, request=REQ)
    with pytest.raises(NotFound):
        training_sessions.withdraw(other_user, seat.id, request=REQ)
    assert cast.other_ed not in training_sessions.enrollable_people(cast.ed)
    assert person in training_sessions.enrollable_people(cast.ed)
    assert training_sessions.enrollable_people(person) == []
    for huge in (2**63, 2**31):
        with pytest.raises(NotFound):
            training_sessions.enrol(cast.ed, huge, request=REQ)
        with pytest.raises(NotFound):
            training_sessions.enrol(cast.ed, session.id, user_id=huge, request=REQ)


def test_attendance_completes_a_course_that_needs_a_session(app, cast, travel):
    row = course(cast.admin, questions=2, session_required=True)
    person = new_user(cast)
    onboarding = in_training(cast, person)
    session = schedule(cast, row, capacity=3)
    seat = training_sessions.enrol(person, session.id, request=REQ)
    no_show = training_sessions.enrol(cast.officer, session.id, request=REQ)
    pass_test(person, row)
    assert onboarding.state == "training"
    with pytest.raises(ServiceError, match="once the session has begun"):
        training_sessions.record_attendance(cast.admin, session.id, {seat.id: True}, request=REQ)
    travel.move_to(session.starts_at + timedelta(hours=2))
    with pytest.raises(NotFound):
        training_sessions.record_attendance(cast.admin, session.id, {2**40: True}, request=REQ)
    with pytest.raises(Forbidden):
        training_sessions.record_attendance(cast.ed, session.id, {seat.id: True}, request=REQ)
    training_sessions.record_attendance(
        cast.admin, session.id, {seat.id: True, no_show.id: False}, request=REQ
    )
    db.session.refresh(onboarding)
    assert (seat.attended, no_show.attended) == (True, False)
    assert seat.attendance_recorded_by_id == cast.admin.id
    assert onboarding.state == "complete"
    with pytest.raises(ServiceError, match="already begun"):
        training_sessions.enrol(new_user(cast, "late@hope.test"), session.id, request=REQ)


def test_cancelling_e_mails_everyone_enrolled(app, cast, travel):
    row = course(cast.admin, questions=1)
    session = schedule(cast, row, capacity=3)
    person = new_user(cast)
    training_sessions.enrol(person, session.id, request=REQ)
    training_sessions.enrol(cast.ed, session.id, request=REQ)
    with pytest.raises(ServiceError, match="Reason is required"):
        training_sessions.cancel(cast.admin, session.id, reason=" ", request=REQ)
    training_sessions.cancel(cast.admin, session.id, reason="The trainer is ill.", request=REQ)
    mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted(m.to_addr for m in mail) == ["ed@hope.test", "new@hope.test"]
    assert all("The trainer is ill." in m.body and "/training/" in m.body for m in mail)
    assert mail[0].subject.startswith("Cancelled: New HMIS User on March 11, 2030")
    assert training_sessions.upcoming() == []
    with pytest.raises(ServiceError, match="cancelled"):
        training_sessions.enrol(cast.officer, session.id, request=REQ)
    with pytest.raises(ServiceError, match="not begun"):
        training_sessions.cancel(cast.admin, session.id, reason="Again", request=REQ)
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("training.%"))
    ).all()
    assert "training.session_cancel" in actions and actions.count("training.enrol") == 2


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="needs PostgreSQL (concurrent transactions, FOR UPDATE)",
)
def test_the_last_seat_goes_to_one_person_under_a_race(app, cast):
    row = course(cast.admin, questions=1)
    day = (clock.now() + timedelta(days=7)).date()
    session = schedule(cast, row, capacity=1, day=day)
    people = [new_user(cast, f"racer{i}@hope.test", f"Racer {i}") for i in range(6)]
    ids = [p.id for p in people]
    start = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def racer(user_id: int) -> None:
        with app.app_context():
            try:
                from portal.models import User

                person = db.session.get(User, user_id)
                start.wait(timeout=30)
                training_sessions.enrol(person, session.id, request=REQ)
                outcomes.append("seat")
            except ServiceError as refused:
                outcomes.append(refused.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("seat") == 1, outcomes
    assert outcomes.count(training_sessions.FULL.format(n=1)) == len(ids) - 1
    assert db.session.query(SessionSeat).count() == 1

"""The process registry: every process declared once, read by the sweep, `cases.advance` and
the end-of-agreement cascade, so a new process needs none of them changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal import clock, jobs
from portal.extensions import db
from portal.models import Deadline
from portal.models.types import UTCDateTime
from portal.processes import Process, Registry, RuleSetting, registry
from portal.services import cases, documents, terminations
from portal.services.access import SYSTEM
from tests import factories
from tests.notices import give_default, give_termination
from tests.rendering.pdf_text import flat, needs_pdftotext, page_texts
from tests.services.helpers import REQ
from workflows.engine import SYSTEM as PORTAL
from workflows.engine import Event, Machine, State, Timer


class OwnTables(DeclarativeBase):
    """Tables of this test only, kept out of the portal's metadata (which the suite empties)."""


class SiteVisit(OwnTables):
    """A stand-in for a process added later: a case under an agreement with one timer."""

    __tablename__ = "test_site_visit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(40), default="scheduled")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    agency_id: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(40), default="SV-1")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": lock_version}


VISIT = Machine(
    "site_visit",
    "Site visit",
    [
        State("scheduled", "Scheduled"),
        State("overdue", "Overdue", terminal=True),
        State("agreement_ended", "Closed — the agreement ended", terminal=True),
    ],
    [
        Event("overdue", "Mark overdue", ("scheduled",), "overdue", {PORTAL}, {PORTAL}),
        Event("agreement_ended", "Close", ("scheduled",), "agreement_ended", {PORTAL}, {PORTAL}),
    ],
    [Timer("scheduled", "overdue", "site_visit_window")],
    initial="scheduled",
    roles={},
    sides={},
)


def visit_is_due(visit, row):
    return cases.advance(VISIT, visit, row.event, None, {}, at=clock.now(), request=SYSTEM)


def visit_process(**changes) -> Process:
    declared = Process(
        machine=VISIT,
        model=SiteVisit,
        period_start=lambda visit: visit.opened_at,
        rules={"site_visit_window": RuleSetting("CURE_PERIOD", "Site visit window")},
        on_timer=visit_is_due,
        parent="agreement",
        parent_key="agreement_id",
        on_parent_end="agreement_ended",
    )
    return replace(declared, **changes)


@pytest.fixture
def site_visits(app):
    """The new process, registered with one line, as `create_app` would."""
    SiteVisit.__table__.create(db.engine, checkfirst=True)
    processes = app.extensions["portal.processes"]
    processes.register(visit_process())
    yield processes
    del processes._processes["site_visit"]
    db.session.rollback()
    SiteVisit.__table__.drop(db.engine)


def open_visit(agreement, by, at) -> SiteVisit:
    visit = SiteVisit(agreement_id=agreement.id, agency_id=agreement.agency_id, opened_at=at)
    db.session.add(visit)
    db.session.flush()
    cases.record_creation(VISIT, visit, by, at=at, request=REQ)
    db.session.commit()
    return visit


def test_a_new_process_gets_deadlines_and_the_sweep_fires_them(app, cast, site_visits):
    agreement = factories.agreement(cast.agency)
    given = clock.now()
    visit = open_visit(agreement, cast.admin, given)
    [row] = db.session.scalars(
        select(Deadline).where(Deadline.case_type == "site_visit", Deadline.event == "overdue")
    )
    assert row.rule_text.startswith("10 calendar days counted from the day after notice")
    with time_machine.travel(row.due_at + timedelta(seconds=1), tick=False):
        # Its two reminders (3 days and 1 day before) and its timer.
        assert jobs.sweep(app)["deadlines_fired"] == 3
    db.session.expire_all()
    assert db.session.get(SiteVisit, visit.id).state == "overdue"


def test_ending_the_agreement_closes_the_new_process_too(app, cast, site_visits):
    agreement = factories.agreement(cast.agency)
    visit = open_visit(agreement, cast.admin, clock.now())
    terminations.terminate_agreement(agreement, at=clock.now(), reason="Ended for the test")
    db.session.commit()
    assert visit.state == "agreement_ended"
    pending = db.session.scalars(
        select(Deadline).where(
            Deadline.case_type == "site_visit",
            Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
    )
    assert list(pending) == []


def test_a_terminated_agreement_leaves_no_notice_open(app, cast):
    agreement = factories.agreement(cast.agency)
    notices = [give_default(cast.signatory, agreement) for _ in range(2)]
    termination = give_termination(cast.ed, agreement)
    terminations.terminate_agreement(agreement, at=clock.now(), reason="Ended another way")
    db.session.commit()
    assert [n.state for n in notices] == ["agreement_ended", "agreement_ended"]
    assert termination.state == "agreement_ended"
    for process in registry():
        if process.parent == "agreement":
            open_states = [s.name for s in process.machine.states if not s.terminal]
            still_open = select(process.model).where(process.model.state.in_(open_states))
            assert list(db.session.scalars(still_open)) == []


def test_registration_checks(app):
    fresh = Registry()
    with pytest.raises(ValueError, match="Register 'agreement' before its child"):
        fresh.register(visit_process())
    for process in registry():
        fresh.register(process)
    with pytest.raises(ValueError, match="registered twice"):
        fresh.register(registry().get("agreement"))
    with pytest.raises(ValueError, match="'cure_period' is declared twice"):
        fresh.register(
            visit_process(
                rules={
                    "site_visit_window": RuleSetting("CURE_PERIOD", "Site visit window"),
                    "cure_period": RuleSetting("CURE_PERIOD", "Again"),
                }
            )
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rules": {}}, "undeclared rule 'site_visit_window'"),
        ({"on_timer": None}, "timers but no timer handler"),
        ({"parent_key": ""}, "names a parent but not its key"),
        ({"on_parent_end": "no_such_event"}, "has no event 'no_such_event'"),
    ],
)
def test_bad_declarations_fail_when_registered(app, change, message):
    with pytest.raises(ValueError, match=message):
        visit_process(**change).check()


@needs_pdftotext
def test_notice_pdfs_state_the_periods_in_the_settings(app, cast, monkeypatch):
    monkeypatch.setitem(app.config, "CURE_PERIOD_DAYS", 15)
    monkeypatch.setitem(app.config, "TERMINATION_NOTICE_DAYS", 45)
    agreement = factories.agreement(cast.agency)
    default = give_default(cast.signatory, agreement)
    text = flat(" ".join(page_texts(documents.read_bytes(default.document.current))))
    assert "has fifteen (15) days to cure the default" in text
    assert "ten (10)" not in text
    termination = give_termination(cast.ed, agreement)
    text = flat(" ".join(page_texts(documents.read_bytes(termination.document.current))))
    assert "gives forty-five (45) days' prior written notice" in text
    assert "thirty (30)" not in text

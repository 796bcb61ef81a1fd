"""SSF's tracking view (issue 9, item 4): every agency with its agreement state, open
defaults with cure deadlines, pending terminations with effective dates, access awaiting
issuance, late separations; overdue first; filters; keyset paging over thousands of rows
in one query a page; agencies see their own rows only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agreement
from portal.services import separations, tracking
from portal.services.errors import NotFound, ServiceError
from tests import factories
from tests.notices import give_default, give_termination
from tests.services.helpers import REQ
from tests.support import onboarding as steps
from tests.support.separations import calendar_for, issued, staff
from tests.support.tracking import counted, many_agencies
from workflows.agreement import AGREEMENT

NOW = "2027-03-10 18:00:00+00:00"  # Wednesday, 10 am PST


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(cast, travel):
    """Hope: an effective agreement, a notice of default, an access request in progress and
    a late separation. Other: an effective agreement under notice of termination."""
    calendar_for(2027)
    request = steps.requested(cast)  # with the agency's agreement, in effect
    mine = db.session.scalars(select(Agreement).where(Agreement.agency_id == cast.agency.id)).one()
    default = give_default(cast.signatory, mine)
    person = staff(cast.agency, "leaver@hope.test", name="Lee Leaver")
    issued(person, "HMIS-77")
    late = separations.report(
        cast.ed, cast.agency.id, user_id=person.id, last_day=date(2027, 3, 1), request=REQ
    )
    theirs = factories.agreement(cast.other_agency)
    termination = give_termination(cast.signatory, theirs)
    return default, request, late, termination


def _all(user, **filters):
    return tracking.page(user, tracking.Filters(**filters), size=1000).rows


def test_staff_see_every_kind_overdue_first(cast, scene, travel):
    default, request, late, termination = scene
    rows = _all(cast.admin)
    kinds = {(r.kind, r.agency_id) for r in rows}
    assert ("agency", cast.agency.id) in kinds and ("agency", cast.other_agency.id) in kinds
    assert ("default", cast.agency.id) in kinds
    assert ("termination", cast.other_agency.id) in kinds
    assert ("access_request", cast.agency.id) in kinds
    assert ("separation", cast.agency.id) in kinds
    [agency_row] = [r for r in rows if r.kind == "agency" and r.agency_id == cast.agency.id]
    assert agency_row.state_label == AGREEMENT.state("effective").label
    assert agency_row.url == f"/agreements/{default.agreement_id}"
    [t] = [r for r in rows if r.kind == "termination"]
    assert t.at == termination.effective_at and t.dated and not t.overdue
    # The late separation still to deactivate is overdue and comes first.
    assert rows[0].kind == "separation" and rows[0].overdue
    assert all(r.overdue for r in rows[: sum(r.overdue for r in rows)])

    travel.shift(timedelta(days=60))  # the cure period ran out (no sweep ran)
    rows = _all(cast.admin)
    [d] = [r for r in rows if r.kind == "default"]
    assert d.overdue and rows.index(d) < rows.index(next(r for r in rows if not r.overdue))
    overdue = _all(cast.admin, overdue_only=True)
    assert all(r.overdue for r in overdue)
    assert {"separation", "default"} <= {r.kind for r in overdue}
    assert [r.at for r in overdue] == sorted(r.at for r in overdue)


def test_an_agency_sees_its_own_rows_only(cast, scene):
    filters = tracking.filters_for(cast.ed, "", "", "")
    assert filters.agency_id == cast.agency.id
    rows = tracking.page(cast.ed, filters).rows
    assert rows and {r.agency_id for r in rows} == {cast.agency.id}
    with pytest.raises(NotFound):
        tracking.filters_for(cast.ed, str(cast.other_agency.id), "", "")
    with pytest.raises(NotFound):
        tracking.page(cast.ed, tracking.Filters(agency_id=cast.other_agency.id))
    with pytest.raises(NotFound):
        tracking.page(cast.ed, tracking.Filters())
    assert tracking.agency_choices(cast.ed) == []


def test_filters_and_bad_input(cast, scene):
    only = tracking.filters_for(cast.admin, str(cast.other_agency.id), "termination", "")
    rows = tracking.page(cast.admin, only).rows
    assert [r.kind for r in rows] == ["termination"]
    for bad in (("x", "", ""), ("", "nonsense", ""), ("99999999999", "", "")):
        with pytest.raises(ServiceError):
            tracking.filters_for(cast.admin, *bad)
    with pytest.raises(ServiceError, match="page address"):
        tracking.page(cast.admin, tracking.Filters(), after="garbage")


def test_keyset_paging_over_thousands_in_one_query_a_page(cast, travel):
    many_agencies(2100)
    filters = tracking.Filters(kind="agency")
    seen: list[int] = []
    after = ""
    pages = 0
    assert cast.admin.id  # loaded before counting
    while True:
        with counted() as statements:
            page = tracking.page(cast.admin, filters, after, size=250)
        assert len(statements) == 1  # no count(*), no query per row
        assert "count(" not in statements[0].lower()
        if db.engine.dialect.name == "postgresql":  # SQLite's dialect writes "OFFSET 0"
            assert "OFFSET" not in statements[0].upper()
        seen += [r.key for r in page.rows]
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert len(seen) == len(set(seen)) == 2102  # the cast's two agencies too
    assert pages == 9
    assert len(list(tracking.every_row(cast.admin, filters))) == 2102

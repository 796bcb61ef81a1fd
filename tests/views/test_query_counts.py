"""Each main page runs a bounded number of SQL statements, whatever the data's size: the count
with a few rows and with ten times as many is the same, so an N+1 cannot come back.

The count is the portal's own X-Query-Count header (portal/query_count.py), the one the page
bench reads (bench/pages.py); it is off unless QUERY_COUNT_HEADER is set.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AccessRequest, Agreement, DefaultNotice
from portal.query_count import HEADER
from tests import factories

SMALL, LARGE = 3, 30


@pytest.fixture
def counting(app):
    app.config["QUERY_COUNT_HEADER"] = True
    yield
    app.config["QUERY_COUNT_HEADER"] = False


def queries(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return int(response.headers[HEADER])


def _agreements(agency, n: int) -> None:
    """`n` more agreements of `agency`: closed ones, and the last one sent (so it waits on
    its executive director and the lead agency follows it); the one open before is voided."""
    for row in db.session.scalars(select(Agreement).where(Agreement.agency_id == agency.id)):
        row.state = "voided"
    db.session.commit()
    for _ in range(n - 1):
        row = factories.agreement(agency, state="effective", documents=True)
        row.state = "voided"
        db.session.commit()
    factories.agreement(agency, state="sent")


def _agencies(admin, n: int, tag: str) -> list:
    """`n` partner agencies, each with its executive director."""
    made = []
    for i in range(n):
        agency = factories.agency(f"Agency {tag} {i:03d}", created_by=admin)
        factories.person(
            agency, email=f"ed{i}@{tag}.test", name="Ed", title="Director", role="agency_ed"
        )
        made.append(agency)
    return made


def _requests(agency, n: int) -> None:
    agreement = factories.agreement(agency, state="effective")
    requester = factories._executive_director(agency)
    for i in range(n):
        person = factories.person(
            agency,
            email=f"staff{i}@{agency.id}.test",
            name=f"Staff {i}",
            title="Staff",
            role="agency_user",
        )
        db.session.add(
            AccessRequest(
                reference=f"AR-{agency.id}-{i}",
                agency_id=agency.id,
                agreement_id=agreement.id,
                user_id=person.id,
                name=person.name,
                email=person.email,
                job_title="Case manager",
                hmis_role="case_manager",
                requested_at=agreement.created_at,
                requested_by_id=requester.id,
            )
        )
    db.session.commit()


def _notices(admin, agencies, state: str) -> None:
    """A notice of default the lead agency gave each agency, in `state`, as rows."""
    for agency in agencies:
        agreement = factories.agreement(agency, state="effective")
        db.session.add(
            DefaultNotice(
                reference=f"NOD-{agency.id}",
                agreement_id=agreement.id,
                agency_id=agency.id,
                issuer_side="lead",
                state=state,
                provisions=[["V.E.12", "Separations"]],
                description="Late.",
                cure_required="Report on time.",
                given_at=agreement.created_at,
                given_by_id=admin.id,
                cure_ends_at=agreement.created_at,
                cure_rule_text="10 calendar days",
            )
        )
    db.session.commit()


def test_the_header_is_off_unless_set(client, app, cast, auth):
    auth.login("admin@ssf.test")
    assert HEADER not in client.get("/").headers


def test_the_header_counts_the_statements_of_the_request(client, app, cast, auth, counting):
    auth.login("admin@ssf.test")
    assert queries(client, "/agencies/") > 0


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("admin@ssf.test", "/agencies/{agency}"),
        ("ed@hope.test", "/agencies/{agency}"),
        ("admin@ssf.test", "/agreements/"),
        ("ed@hope.test", "/agreements/"),
        ("admin@ssf.test", "/"),
        ("ed@hope.test", "/"),
    ],
)
def test_agreement_pages_do_not_grow_with_agreements(client, app, cast, auth, counting, who, url):
    url = url.format(agency=cast.agency.id)
    auth.login(who)
    _agreements(cast.agency, SMALL)
    few = queries(client, url)
    _agreements(cast.other_agency, LARGE)  # other agencies' agreements, for the lists
    more_of_theirs = queries(client, url)
    _agreements(cast.agency, LARGE)  # and the agency's own, past a page's worth
    many = queries(client, url)
    assert few == more_of_theirs == many, (few, more_of_theirs, many)


def test_the_agencies_list_does_not_grow_with_agencies(client, app, cast, auth, counting):
    auth.login("admin@ssf.test")
    _agencies(cast.admin, SMALL, "a")
    few = queries(client, "/agencies/")
    _agencies(cast.admin, LARGE, "b")
    assert queries(client, "/agencies/") == few


def test_the_access_requests_list_does_not_grow_with_requests(client, app, cast, auth, counting):
    auth.login("admin@ssf.test")
    _requests(cast.agency, SMALL)
    few = queries(client, "/access-requests/")
    _requests(cast.other_agency, LARGE)
    assert queries(client, "/access-requests/") == few


@pytest.mark.parametrize(
    ("who", "state"), [("admin@ssf.test", "draft"), ("sign@ssf.test", "agency_signed")]
)
def test_the_home_page_does_not_grow_with_what_awaits(
    client, app, cast, auth, counting, who, state
):
    """What waits on the lead agency's staff, one agreement per agency, gathered in bulk."""
    auth.login(who)
    for agency in _agencies(cast.admin, SMALL, "a"):
        factories.agreement(agency, state=state)
    few = queries(client, "/")
    for agency in _agencies(cast.admin, LARGE, "b"):
        factories.agreement(agency, state=state)
    assert queries(client, "/") == few


def test_the_lead_admins_home_does_not_grow_with_requests_in_progress(
    client, app, cast, auth, counting
):
    """Requests still in their agency's hands are not checked one by one for the lead."""
    auth.login("admin@ssf.test")
    _requests(cast.agency, SMALL)
    few = queries(client, "/")
    _requests(cast.other_agency, LARGE)
    assert queries(client, "/") == few


@pytest.mark.parametrize("state", ["cure_period", "lapsed"])
def test_the_lead_admins_home_does_not_grow_with_notices(client, app, cast, auth, counting, state):
    auth.login("admin@ssf.test")
    _notices(cast.admin, _agencies(cast.admin, SMALL, "a"), state)
    few = queries(client, "/")
    _notices(cast.admin, _agencies(cast.admin, LARGE, "b"), state)
    assert queries(client, "/") == few

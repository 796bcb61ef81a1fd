"""Programs, reallocations, agency closure and site visits through the pages: the forms
work, bad input gets a message (never a 500), and another agency's ids answer 404."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.extensions import db
from portal.models import Program, Reallocation
from portal.services import site_visits
from tests import factories
from tests.conftest import csrf_token
from tests.support import programs as steps


def _post(client, page_url: str, url: str, data: dict):
    page = client.get(page_url)
    assert page.status_code == 200, page_url
    return client.post(url, data={**data, "csrf_token": csrf_token(page)}, follow_redirects=True)


def test_an_admin_adds_a_program_and_reallocates_it(app, cast, auth, client):
    auth.login("admin@ssf.test")
    new = f"/agencies/{cast.agency.id}/programs/new"
    page = _post(client, new, new, {"name": "", "funding_source": "", "start_date": ""})
    assert page.status_code == 200 and b"Give the program" in page.data
    page = _post(
        client,
        new,
        new,
        {"name": "Street Outreach", "funding_source": "ESG", "start_date": "2021-01-04"},
    )
    assert b"Street Outreach" in page.data and b"Programs" in page.data
    program = db.session.query(Program).one()
    show = f"/programs/{program.id}"
    page = _post(
        client,
        show,
        f"/programs/{program.id}/reallocate",
        {"acquiring_agency": str(cast.other_agency.id), "reason": "HUD decision"},
    )
    row = db.session.query(Reallocation).one()
    assert page.status_code == 200 and row.reference.encode() in page.data
    assert b"Hand-over" in page.data
    agency_page = client.get(f"/agencies/{cast.agency.id}")
    assert b"Reallocated" in agency_page.data and row.reference.encode() in agency_page.data
    assert client.get("/reallocations/").status_code == 200


def test_the_access_request_form_lists_the_active_programs(app, cast, auth, client):
    factories.agreement(cast.agency, state="effective", documents=True)
    steps.program(cast, "Rapid Re-Housing")
    auth.login("ed@hope.test")
    page = client.get(f"/agencies/{cast.agency.id}/access-requests/new")
    assert page.status_code == 200
    assert b"Active programs of" in page.data and b"Rapid Re-Housing" in page.data


def test_another_agencys_ids_answer_404(app, cast, auth, client):
    row = steps.reallocated(cast)
    third = factories.agency("Third Agency", created_by=cast.admin)
    factories.person(third, email="ed@third.test", name="Tess", title="ED", role="agency_ed")
    visit = site_visits.schedule(
        cast.admin,
        cast.agency.id,
        visit_at=datetime(2030, 1, 7, 18, 0, tzinfo=UTC),
        visitors="Ada",
        request=steps.REQ,
    )
    auth.login("ed@third.test")
    for url in (
        f"/programs/{row.program_id}",
        f"/reallocations/{row.id}",
        f"/reallocations/{row.id}/receipt.pdf",
        f"/site-visits/{visit.id}",
        f"/agencies/{cast.agency.id}/close",
        f"/agencies/{cast.agency.id}/programs/new",
        "/programs/99999999999999",
    ):
        assert client.get(url).status_code == 404, url
    # Both agencies of the reallocation see it.
    auth.logout()
    auth.login("ed@other.test")
    assert client.get(f"/reallocations/{row.id}").status_code == 200


def test_the_site_visit_pages_lead_to_a_prefilled_notice(app, cast, auth, client):
    factories.agreement(cast.agency, state="effective", documents=True)
    auth.login("admin@ssf.test")
    new = f"/agencies/{cast.agency.id}/site-visits/new"
    page = _post(client, new, new, {"visit_at": "", "visitors": ""})
    assert b"Give the date and time" in page.data
    page = _post(client, new, new, {"visit_at": "2030-01-07T10:00", "visitors": "Ada Admin"})
    visit = site_visits.for_agency(cast.admin, cast.agency.id)[0]
    assert page.status_code == 200 and visit.reference.encode() in page.data
    url = f"/site-visits/{visit.id}"
    _post(client, url, f"{url}/record_visit", {})
    _post(client, url, f"{url}/findings", {"kind": "finding", "text": "Shared passwords."})
    db.session.expire_all()
    finding = visit.findings[0]
    auth.logout()
    auth.login("sign@ssf.test")
    page = client.get(f"{url}/findings/{finding.id}/notice")
    assert page.status_code == 200
    assert b"Shared passwords." in page.data and visit.reference.encode() in page.data


def test_an_admin_records_that_an_agency_ceased_to_operate(app, cast, auth, client):
    auth.login("admin@ssf.test")
    url = f"/agencies/{cast.agency.id}/close"
    page = _post(client, url, url, {"reason": ""})
    assert b"Say why" in page.data
    page = _post(client, url, url, {"reason": "Lost its funding"})
    assert b"Ceased to operate" in page.data and b"property of the Continuum of Care" in page.data

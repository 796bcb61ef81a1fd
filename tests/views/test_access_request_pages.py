"""HMIS access requests through the pages: the agency asks, the lead agency sees each
condition of IV.B.4 and can issue only when all hold; other agencies see nothing."""

from __future__ import annotations

import time_machine

from portal.extensions import db
from portal.models import AccessRequest, ParticipationFee
from tests.conftest import csrf_token
from tests.support.access import in_effect, pass_required, request, sign_and_approve

NEW_USER = {
    "name": "Rana <i>Haddad</i> رنا حداد",
    "email": "rana@hope.test",
    "job_title": "Outreach Worker",
    "hmis_role": "intake",
    "programs": "Street Outreach",
}


def _form(client, url, **data):
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def test_ed_requests_access_from_the_agency_page(client, cast, auth):
    in_effect(cast.agency)
    auth.login("ed@hope.test")
    agency_page = client.get(f"/agencies/{cast.agency.id}").get_data(as_text=True)
    assert "Request HMIS access for a staff member" in agency_page
    assert "Sam Officer" in agency_page  # the security officer, shown with the role
    response = _form(client, f"/agencies/{cast.agency.id}/access-requests/new", **NEW_USER)
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rana &lt;i&gt;Haddad&lt;/i&gt; رنا حداد" in html and "<i>Haddad</i>" not in html
    assert "Not met" in html and "has not signed the user agreement" in html
    # A replayed form opens no second request.
    _form(client, f"/agencies/{cast.agency.id}/access-requests/new", **NEW_USER)
    assert db.session.query(AccessRequest).count() == 1


def test_request_form_refuses_without_agreement_and_bad_input(client, cast, auth):
    auth.login("ed@hope.test")
    html = client.get(f"/agencies/{cast.agency.id}/access-requests/new").get_data(as_text=True)
    assert "no agreement in effect" in html
    in_effect(cast.agency)
    response = _form(
        client,
        f"/agencies/{cast.agency.id}/access-requests/new",
        **{**NEW_USER, "name": "x" * 5000},
    )
    assert response.status_code == 200 and "at most" in response.get_data(as_text=True)
    assert db.session.query(AccessRequest).count() == 0


def test_admin_sees_why_the_account_cannot_be_issued_yet_then_issues(client, cast, auth):
    with time_machine.travel("2027-04-06 18:00:00+00:00", tick=False):
        in_effect(cast.agency)
        row = request(cast)
        auth.login("admin@ssf.test")
        html = client.get(f"/access-requests/{row.id}").get_data(as_text=True)
        assert "disabled" in html and "Cannot issue yet" in html and "(c)" in html
        refused = client.post(
            f"/access-requests/{row.id}/issue",
            data={
                "csrf_token": csrf_token(client.get(f"/access-requests/{row.id}")),
                "hmis_user_id": "HMIS-77",
                "issued_on": "2027-04-06",
            },
            follow_redirects=True,
        )
        assert "Cannot issue yet" in refused.get_data(as_text=True)
        sign_and_approve(cast, row)
        pass_required(row.user)
        page = client.get(f"/access-requests/{row.id}")
        assert "Cannot issue yet" not in page.get_data(as_text=True)
        issued = client.post(
            f"/access-requests/{row.id}/issue",
            data={
                "csrf_token": csrf_token(page),
                "lock_version": str(row.lock_version),
                "hmis_user_id": "HMIS-77",
                "issued_on": "2027-04-06",
            },
        )
        assert issued.status_code == 302
        db.session.expire_all()
        assert db.session.get(AccessRequest, row.id).state == "issued"
        api = client.get(f"/api/v1/access-requests/{row.id}").get_json()
        assert api["state"] == "issued" and [g["met"] for g in api["gates"]] == [True] * 4


def test_other_agency_gets_404_everywhere(client, cast, auth):
    in_effect(cast.agency)
    row = request(cast)
    auth.login("ed@other.test")
    for url in (
        f"/access-requests/{row.id}",
        f"/agencies/{cast.agency.id}/access-requests/new",
        f"/api/v1/access-requests/{row.id}",
        f"/access-requests/{2**64}",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client.get("/access-requests/"))
    for url in (
        f"/access-requests/{row.id}/withdraw",
        f"/access-requests/{row.id}/issue",
    ):
        client.post(
            url,
            data={
                "csrf_token": token,
                "reason": "x",
                "hmis_user_id": "x",
                "issued_on": "2027-01-01",
            },
        )
    db.session.expire_all()
    assert db.session.get(AccessRequest, row.id).state == "in_progress"
    listing = client.get("/access-requests/").get_data(as_text=True)
    assert "Nia Newhire" not in listing


def test_fee_and_security_officer_forms(client, cast, auth):
    auth.login("admin@ssf.test")
    agency_url = f"/agencies/{cast.agency.id}"
    page = client.get(agency_url)
    response = client.post(
        f"{agency_url}/fees",
        data={
            "csrf_token": csrf_token(page),
            "year": "2027",
            "amount": "$1,250.50",
            "paid_on": "",
            "note": "invoice 7",
        },
    )
    assert response.status_code == 302
    fee = db.session.query(ParticipationFee).one()
    assert fee.amount_cents == 125050 and fee.paid_on is None
    assert "unpaid" in client.get(agency_url).get_data(as_text=True)
    auth.logout()
    auth.login("ed@hope.test")
    page = client.get(agency_url)
    assert "Designate security officer" in page.get_data(as_text=True)
    client.post(
        f"{agency_url}/security-officer",
        data={"csrf_token": csrf_token(page), "email": "ed@hope.test"},
    )
    html = client.get(agency_url).get_data(as_text=True)
    assert "Held the role before" in html and "Sam Officer" in html

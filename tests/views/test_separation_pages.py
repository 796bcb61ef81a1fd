"""Separations, the HMIS accounts to deactivate, the reconciliation and reactivation, through
the pages: access ends at once, late reports are flagged, other agencies get 404."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import time_machine
from flask import g

from portal.extensions import db
from portal.models import User
from portal.models.security import Separation
from tests.conftest import AuthActions, csrf_token
from tests.support.separations import calendar_for, issued, staff

NOW = "2027-03-10 18:00:00+00:00"  # Wednesday, 10 am PST


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def nia(cast, travel):
    calendar_for(2027)
    person = staff(cast.agency, "nia@hope.test", name="Nia <b>Newhire</b>")
    person.password_changed_at = datetime(2027, 3, 1, tzinfo=UTC)  # not due for a change
    db.session.commit()
    issued(person, "HMIS-77")
    return person


def as_themselves(client, url: str):
    """A request of this client alone: the tests share one app context, where Flask-Login
    keeps the user of the last request (in `g`)."""
    g.pop("_login_user", None)
    return client.get(url, follow_redirects=url == "/")


def _post(client, url, data, page_url=None):
    page = client.get(page_url or url)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def test_the_agency_reports_late_and_access_ends_at_once(app, client, cast, auth, nia):
    theirs = app.test_client()
    AuthActions(theirs).login(nia.email)
    assert "Nia &lt;b&gt;Newhire&lt;/b&gt;" in as_themselves(theirs, "/").get_data(as_text=True)
    assert as_themselves(theirs, "/training/").status_code == 200

    g.pop("_login_user", None)
    auth.login(cast.ed.email)
    url = f"/agencies/{cast.agency.id}/separations/new"
    form = client.get(url).get_data(as_text=True)
    assert "Nia &lt;b&gt;Newhire&lt;/b&gt;" in form and "within 1 business day" in form
    response = _post(client, url, {"person": str(nia.id), "last_day": "2027-03-05"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The report is late" in page and "Late" in page
    assert "Monday, March 8, 2027" in page
    assert "Reported — HMIS account to deactivate" in page
    assert "Late" in client.get("/separations/").get_data(as_text=True)

    # The person's open session no longer loads a page, and they cannot sign in again.
    assert "Nia &lt;b&gt;Newhire&lt;/b&gt;" not in as_themselves(theirs, "/").get_data(as_text=True)
    assert as_themselves(theirs, "/training/").status_code == 302
    AuthActions(theirs).login(nia.email)
    assert "Newhire" not in as_themselves(theirs, "/").get_data(as_text=True)
    assert db.session.get(User, nia.id).active is False


def test_bad_input_is_refused_on_the_form(client, cast, auth, nia):
    auth.login(cast.ed.email)
    url = f"/agencies/{cast.agency.id}/separations/new"
    html = _post(client, url, {"person": str(nia.id), "last_day": "2027-03-11"}).get_data(
        as_text=True
    )
    assert "cannot be in the future" in html
    html = _post(client, url, {"person": str(nia.id), "last_day": "not a date"}).get_data(
        as_text=True
    )
    assert "give their last day as a date" in html
    response = _post(client, url, {"person": "99999999999999999", "last_day": "2027-03-10"})
    assert response.status_code == 404
    assert db.session.query(Separation).count() == 0


def test_other_agencies_get_404(client, cast, auth, nia):
    auth.login(cast.ed.email)
    _post(
        client,
        f"/agencies/{cast.agency.id}/separations/new",
        {"person": str(nia.id), "last_day": "2027-03-10"},
    )
    row = db.session.query(Separation).one()
    auth.logout()
    auth.login(cast.other_ed.email)
    assert client.get(f"/separations/{row.id}").status_code == 404
    assert client.get(f"/agencies/{cast.agency.id}/separations/new").status_code == 404
    assert client.get(f"/separations/{2**40}").status_code == 404
    assert "Nia" not in client.get("/separations/").get_data(as_text=True)
    assert client.get("/hmis-accounts/deactivate").status_code == 302  # refused, sent home


def test_the_lead_agency_deactivates_in_the_hmis(client, cast, auth, nia):
    auth.login(cast.ed.email)
    _post(
        client,
        f"/agencies/{cast.agency.id}/separations/new",
        {"person": str(nia.id), "last_day": "2027-03-10"},
    )
    auth.logout()
    auth.login(cast.admin.email)
    home = client.get("/").get_data(as_text=True)
    assert "Deactivate in the HMIS: Nia &lt;b&gt;Newhire&lt;/b&gt;" in home
    html = client.get("/hmis-accounts/deactivate").get_data(as_text=True)
    assert "HMIS-77" in html and "table-responsive" in html and "Reported late" not in html
    row = db.session.query(Separation).one()
    response = _post(
        client,
        f"/separations/{row.id}/hmis-deactivated",
        {"lock_version": str(row.lock_version), "back": "list"},
        page_url="/hmis-accounts/deactivate",
    )
    assert response.headers["Location"].endswith("/hmis-accounts/deactivate")
    assert "No HMIS account awaits deactivation" in client.get(
        "/hmis-accounts/deactivate"
    ).get_data(as_text=True)
    assert "HMIS account deactivated" in client.get(f"/separations/{row.id}").get_data(as_text=True)
    assert "Deactivate in the HMIS" not in client.get("/").get_data(as_text=True)


def test_reconcile_page(client, cast, auth, nia):
    auth.login(cast.admin.email)
    page = client.get("/hmis-accounts/reconcile")
    token = csrf_token(page)
    bad = client.post(
        "/hmis-accounts/reconcile",
        data={"csrf_token": token, "export": (io.BytesIO(b"%PDF-1.7"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert "not a CSV file" in bad.get_data(as_text=True)
    export = b"User ID,Email,Name,Status\nHMIS-99,z@x.test,<script>x</script>,Active\n"
    response = client.post(
        "/hmis-accounts/reconcile",
        data={"csrf_token": token, "export": (io.BytesIO(export), "users.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
    assert "Unknown here" in html and "HMIS-77" in html  # both directions
    assert "users.csv" in client.get("/hmis-accounts/reconcile").get_data(as_text=True)
    auth.logout()
    auth.login(cast.ed.email)
    assert client.get("/hmis-accounts/reconcile").status_code == 302


def test_reactivation_page(client, cast, auth, nia):
    nia.active = False
    nia.deactivated_at = datetime(2027, 3, 9, tzinfo=UTC)
    nia.deactivated_reason = "No sign-in for 30 days"
    db.session.commit()
    auth.login(cast.admin.email)
    html = client.get("/accounts/deactivated").get_data(as_text=True)
    assert "No sign-in for 30 days" in html
    response = _post(
        client,
        f"/accounts/{nia.id}/reactivate",
        {"reason": "Back from leave"},
        "/accounts/deactivated",
    )
    assert response.status_code == 302
    assert db.session.get(User, nia.id).active is True
    auth.logout()
    auth.login(cast.ed.email)
    assert client.get("/accounts/deactivated").status_code == 302

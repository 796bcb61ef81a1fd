"""The recertification and self-assessment pages: the campaign list with its filters and
CSV, a user renewing through the page, a lapsed user kept to their renewal, the home page's
items, the self-assessment signed through its page, and other agencies' ids as 404."""

from __future__ import annotations

import pytest
import time_machine

from portal.documents.self_assessment import QUESTIONS
from portal.extensions import db
from portal.models import Recertification, SecurityAssessment
from portal.services import deadlines
from tests.conftest import PASSWORD, csrf_token
from tests.support import recertification as recert
from tests.support.recertification import CAMPAIGN_AT, ISSUED_AT


@pytest.fixture
def travel(app, monkeypatch):
    # A year passes in these tests: passwords set at the start must not expire on the way.
    monkeypatch.setitem(app.config, "PASSWORD_MAX_AGE_DAYS", 0)
    with time_machine.travel(ISSUED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def opened(cast, travel):
    user = recert.issued_user(cast)
    travel.move_to(CAMPAIGN_AT)
    [row] = recert.campaign(cast)
    return user, row


def _post(client, url: str, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def test_the_campaign_page_lists_filters_and_exports(client, auth, cast, opened):
    user, row = opened
    auth.login("admin@ssf.test")
    html = client.get("/recertification/?year=2028").get_data(as_text=True)
    assert "Nia Newhire" in html and "Thursday, March 9, 2028" in html
    assert "Open — renewal due" in html and 'class="table-responsive"' in html
    other = client.get(f"/recertification/?year=2028&agency={cast.other_agency.id}")
    assert "Nia Newhire" not in other.get_data(as_text=True)
    lapsed_only = client.get("/recertification/?year=2028&state=lapsed").get_data(as_text=True)
    assert "No recertification matches." in lapsed_only
    csv = client.get("/recertification/export.csv?year=2028")
    assert csv.mimetype == "text/csv" and "Nia Newhire" in csv.get_data(as_text=True)
    assert client.get("/recertification/?year=2028&agency=99999999").status_code == 404


def test_an_admin_opens_a_campaign_by_the_form(client, auth, cast, travel):
    recert.issued_user(cast)
    travel.move_to(CAMPAIGN_AT)
    auth.login("admin@ssf.test")
    page = client.get("/recertification/")
    done = _post(client, "/recertification/open", page, year="2028")
    assert done.status_code == 302
    assert db.session.query(Recertification).count() == 1
    auth.logout()
    auth.login("ed@hope.test")
    page = client.get("/recertification/")
    assert "Open a year's campaign" not in page.get_data(as_text=True)
    _post(client, "/recertification/open", page, year="2028")
    assert db.session.query(Recertification).count() == 1


def test_another_agencys_recertification_is_not_found(client, auth, cast, opened):
    _, row = opened
    auth.login("ed@other.test")
    assert client.get(f"/recertification/{row.id}").status_code == 404
    page = client.get("/recertification/")
    assert "Nia Newhire" not in page.get_data(as_text=True)
    for action in ("approve", "sign"):
        answer = _post(client, f"/recertification/{row.id}/{action}", page, intent="y",
                       consent="y", password=PASSWORD)  # fmt: skip
        assert answer.status_code == 404
    assert client.get(f"/recertification/{2**40}").status_code == 404


def test_the_user_renews_through_the_page(client, auth, cast, opened):
    user, row = opened
    auth.login(user.email)
    home = client.get("/").get_data(as_text=True)
    assert "Renew your HMIS access by Thursday, March 9, 2028" in home
    page = client.get(f"/recertification/{row.id}")
    html = page.get_data(as_text=True)
    assert "Waiting for the user's signature" in html and "Read the text of the agreement" in html
    done = _post(client, f"/recertification/{row.id}/sign", page, intent="y", consent="y",
                 password=PASSWORD)  # fmt: skip
    assert done.status_code == 302
    assert recert.reload(row).document_id is not None
    started = _post(
        client, f"/recertification/{row.id}/test", client.get(f"/recertification/{row.id}")
    )
    assert "/training/attempts/" in started.headers["Location"]
    auth.logout()
    auth.login("so@hope.test")
    assert "Approve the renewed user agreement of Nia Newhire" in client.get("/").get_data(
        as_text=True
    )


def test_a_lapsed_user_may_only_renew(client, auth, cast, opened, travel):
    user, row = opened
    travel.move_to("2028-03-10 09:00:00+00:00")
    deadlines.sweep()
    assert recert.reload(row).state == "lapsed"
    auth.login(user.email)
    for path in ("/", "/agreements/", "/training/"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].endswith(f"/recertification/{row.id}")
    refused = client.get("/api/v1/agreements")  # a program is told, not redirected to a page
    assert refused.status_code == 403 and refused.json["error"]["code"] == "access_lapsed"
    html = client.get(f"/recertification/{row.id}").get_data(as_text=True)
    assert "Your HMIS access lapsed" in html
    auth.logout()
    auth.login("admin@ssf.test")
    assert "Lapsed: deactivate the HMIS account of Nia Newhire" in client.get("/").get_data(
        as_text=True
    )
    auth.logout()
    # Renewing both parts restores access.
    recert.sign(user, row)
    recert.approve(cast.officer, row)
    recert.pass_again(user, row)
    auth.login(user.email)
    assert client.get(f"/recertification/{row.id}").status_code == 200  # notes the test
    assert recert.reload(row).state == "renewed"
    assert client.get("/").status_code == 200
    assert client.get("/training/").status_code == 200


def test_the_officer_answers_and_signs_the_self_assessment(client, auth, cast):
    auth.login("so@hope.test")
    page = client.get("/self-assessment/")
    assert "Your agency's answers" in page.get_data(as_text=True)
    answers = {q.key: "yes" for q in QUESTIONS}
    answers["b3"] = "no"
    saved = _post(client, "/self-assessment/", page, **answers)
    row = db.session.query(SecurityAssessment).one()
    assert saved.headers["Location"].endswith(f"/self-assessment/{row.id}")
    html = client.get(f"/self-assessment/{row.id}").get_data(as_text=True)
    assert "Explain the “no”" in html
    answers["b3_comment"] = "We have no website."
    _post(client, "/self-assessment/", client.get("/self-assessment/"), **answers)
    page = client.get(f"/self-assessment/{row.id}")
    assert "Sign as the agency's security officer" in page.get_data(as_text=True)
    _post(client, f"/self-assessment/{row.id}/sign", page, intent="y", consent="y",
          password=PASSWORD)  # fmt: skip
    db.session.expire_all()
    assert db.session.get(SecurityAssessment, row.id).state == "signed"
    auth.logout()
    auth.login("ed@other.test")
    assert client.get(f"/self-assessment/{row.id}").status_code == 404
    auth.logout()
    auth.login("admin@ssf.test")
    html = client.get("/self-assessment/").get_data(as_text=True)
    assert (
        "Hope &amp; Harbor &lt;Shelter&gt;" in html and "Signed" in html and "Not started" in html
    )


def test_the_ed_may_read_but_not_sign_the_self_assessment(client, auth, cast):
    auth.login("so@hope.test")
    page = client.get("/self-assessment/")
    _post(client, "/self-assessment/", page, **{q.key: "yes" for q in QUESTIONS})
    row = db.session.query(SecurityAssessment).one()
    auth.logout()
    auth.login("ed@hope.test")
    listing = client.get("/self-assessment/").get_data(as_text=True)
    assert "Your agency's answers" not in listing and f"/self-assessment/{row.id}" in listing
    page = client.get(f"/self-assessment/{row.id}")
    assert "Only the agency's current security officer signs" in page.get_data(as_text=True)
    answer = _post(client, f"/self-assessment/{row.id}/sign", page, intent="y", consent="y",
                   password=PASSWORD)  # fmt: skip
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(SecurityAssessment, row.id).state == "draft"

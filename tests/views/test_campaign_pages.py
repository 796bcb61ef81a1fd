"""The re-signing campaign pages: starting one (every eligible agency checked, a form sent
twice starts one campaign), its progress, closing it, bad input answered without a 500, what
an agency's people see, and the agreement pages of a replaced and a replacing agreement."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import schemathesis
import time_machine
from markupsafe import escape
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agreement, Campaign
from portal.services import api_tokens, campaigns, templates
from tests import factories
from tests.conftest import csrf_token, form_key
from tests.services.helpers import REQ

PACIFIC = ZoneInfo("America/Los_Angeles")
START = datetime(2027, 3, 1, 10, 0, tzinfo=PACIFIC)


def html(response) -> str:
    return response.get_data(as_text=True)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html(response)))


@pytest.fixture
def scene(app, cast):
    """Both agencies in effect on version 1; version 2 published."""
    with time_machine.travel(START, tick=False):
        old = {
            "mine": factories.agreement(cast.agency, at=START - timedelta(days=400)),
            "other": factories.agreement(cast.other_agency, at=START - timedelta(days=400)),
        }
        templates.publish(
            cast.admin,
            version="2",
            revised_date="03/01/2027",
            title="HMIS Partner Agency Agreement",
            body=templates.current().body,
            request=REQ,
        )
        yield old


def test_the_admin_starts_follows_and_closes_a_campaign(client, cast, auth, scene):
    auth.login("admin@ssf.test")
    assert "Re-signing campaigns" in html(client.get("/templates/"))
    page = client.get("/campaigns/new")
    assert page.status_code == 200
    checked = re.findall(r'name="agency_ids" value="(\d+)"[^>]*checked', html(page))
    assert sorted(map(int, checked)) == sorted([cast.agency.id, cast.other_agency.id])
    assert 'value="2027-03-31"' in html(page)  # today + 30 days by default
    fields = {
        "csrf_token": csrf_token(page),
        "form_key": form_key(page),
        "template_id": re.search(r'name="template_id" type="hidden" value="(\d+)"', html(page))[1],
        "agency_ids": [str(cast.agency.id)],  # a selection: one of the two
        "due_on": "2027-03-20",
        "note": "Version 2 adds the new privacy clause.",
    }
    first = client.post("/campaigns/new", data=fields)
    again = client.post("/campaigns/new", data=fields, follow_redirects=True)
    campaign = db.session.scalars(select(Campaign)).one()
    assert first.status_code == 302 and first.headers["Location"].endswith(
        f"/campaigns/{campaign.id}"
    )
    assert "was already started by this form" in html(again)
    assert db.session.scalar(select(func.count()).select_from(Agreement)) == 3

    shown = text(client.get(f"/campaigns/{campaign.id}"))
    [new] = campaign.agreements
    assert str(escape(cast.agency.legal_name)) in html(client.get(f"/campaigns/{campaign.id}"))
    assert new.reference in shown and scene["mine"].reference in shown
    assert "Awaiting the executive director" in shown
    assert "Saturday, March 20, 2027" in shown and "11:59:59 pm" in shown  # the rule beside
    assert "Reason to close the campaign" in shown
    assert "Replaces" in text(client.get(f"/agreements/{new.id}"))
    assert "is on its way" in text(client.get(f"/agreements/{scene['mine'].id}"))
    assert campaign.reference in html(client.get("/campaigns/"))

    page = client.get(f"/campaigns/{campaign.id}")
    answer = client.post(
        f"/campaigns/{campaign.id}/close",
        data={"csrf_token": csrf_token(page), "reason": "Wrong version", "lock_version": "1"},
        follow_redirects=True,
    )
    assert "is closed" in html(answer)
    db.session.expire_all()
    assert campaign.state == "closed" and new.state == "voided"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"due_on": "2020-01-01"}, "must be after today"),
        ({"due_on": "junk"}, "Give the last day to sign, as YYYY-MM-DD."),
        ({"agency_ids": ["x"]}, "Invalid choice"),
        ({"agency_ids": []}, "Choose at least one agency"),
        ({"form_key": ""}, "Reload the page"),
    ],
)
def test_bad_input_is_refused_with_words_not_a_500(client, cast, auth, scene, change, message):
    auth.login("admin@ssf.test")
    page = client.get("/campaigns/new")
    fields = {
        "csrf_token": csrf_token(page),
        "form_key": form_key(page),
        "agency_ids": [str(cast.agency.id)],
        "due_on": "2027-03-20",
        **change,
    }
    with time_machine.travel(START, tick=False):
        answer = client.post("/campaigns/new", data=fields)
    assert answer.status_code == 400
    assert message in html(answer), text(answer)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_agency_people_see_their_own_row_and_cannot_start(client, cast, auth, scene):
    campaign = campaigns.start(cast.admin, agency_ids=[cast.agency.id], request=REQ)
    auth.login("ed@other.test")
    assert client.get(f"/campaigns/{campaign.id}").status_code == 404
    assert client.get("/campaigns/new").status_code == 302
    auth.logout()
    auth.login("ed@hope.test")
    shown = text(client.get(f"/campaigns/{campaign.id}"))
    assert campaign.agreements[0].reference in shown
    assert "Reason to close the campaign" not in shown and "Totals" not in shown
    page = client.get(f"/campaigns/{campaign.id}")
    refused = client.post(
        f"/campaigns/{campaign.id}/close",
        data={"csrf_token": csrf_token(page), "reason": "No"},
        follow_redirects=True,
    )
    assert "Only a lead agency HMIS admin" in html(refused)
    assert campaign.state == "open"


def test_a_superseded_agreement_says_by_which_and_since_when(client, cast, auth):
    old = factories.agreement(cast.agency)
    old.state, old.ended_on = "superseded", date(2027, 3, 4)
    db.session.commit()
    new = factories.agreement(cast.agency)
    new.replaces = old
    db.session.commit()
    auth.login("ed@hope.test")
    shown = text(client.get(f"/agreements/{old.id}"))
    assert f"Superseded by {new.reference}" in shown
    assert "ended Thursday, March 4, 2027" in shown and "to Thursday, March 4, 2027" in shown
    assert f"Replaces {old.reference}" in text(client.get(f"/agreements/{new.id}"))


# --- the API --------------------------------------------------------------------------------


def _token(user) -> str:
    return api_tokens.create(user, name="test", scope="write", request=REQ).secret


def _api(client, token: str, body: dict, key: str = "k1"):
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    return client.post("/api/v1/campaigns", json=body, headers=headers)


def test_the_api_starts_a_campaign_once_per_key_and_shows_it(client, cast, scene):
    token = _token(cast.admin)
    body = {"agency_ids": [cast.other_agency.id], "due_on": "2027-03-20", "note": "v2"}
    first = _api(client, token, body)
    assert first.status_code == 201, html(first)
    spec = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    spec["/api/v1/campaigns"]["POST"].validate_response(first)
    again = _api(client, token, body)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 1
    shown = first.get_json()
    assert [row["agency"]["id"] for row in shown["agencies"]] == [cast.other_agency.id]
    assert shown["agencies"][0]["replaces"]["reference"] == scene["other"].reference
    assert shown["due_on"] == "2027-03-20" and "11:59:59 pm" in shown["deadline_rule"]

    read = client.get(
        f"/api/v1/campaigns/{shown['id']}",
        headers={"Authorization": f"Bearer {_token(cast.other_ed)}"},
    )
    assert read.status_code == 200 and read.get_json()["agencies"][0]["days_waiting"] == 0
    spec["/api/v1/campaigns/{id}"]["GET"].validate_response(read)
    hidden = client.get(
        f"/api/v1/campaigns/{shown['id']}", headers={"Authorization": f"Bearer {_token(cast.ed)}"}
    )
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("ed", {}, 403, "forbidden"),
        ("admin", {"agency_ids": ["x"]}, 400, "invalid_body"),
        ("admin", {"agency_ids": []}, 400, "invalid_body"),
        ("admin", {"template_version": "9"}, 422, "refused"),
        ("admin", {"due_on": "2027-02-01"}, 422, "refused"),
    ],
)
def test_the_api_refuses_in_json(client, cast, scene, who, body, status, code):
    answer = _api(client, _token(getattr(cast, who)), body)
    assert answer.status_code == status, html(answer)
    assert answer.get_json()["error"]["code"] == code
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0

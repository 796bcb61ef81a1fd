"""Registering an agency through its page: refusals are shown on the form and keep nothing."""

import html
import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agency, Invitation, OutboxMessage, User
from portal.services import agencies
from tests.conftest import csrf_token


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Agency, User, Invitation, OutboxMessage)
    }


def _post_new_agency(client, **fields):
    page = client.get("/agencies/new")
    data = {
        "csrf_token": csrf_token(page),
        "legal_name": "Safe Haven DV Services",
        "address": "1 Quiet Lane",
        "ed_name": "Ann Ed",
        "ed_title": "Executive Director",
        "ed_email": "ann@haven.test",
        "so_name": "Bo So",
        "so_title": "Security Officer",
        "so_email": "bo@haven.test",
    } | fields
    return client.post("/agencies/new", data=data)


def test_a_vawa_covered_provider_is_refused_on_the_form(client, app, cast, auth, mailbox):
    auth.login("admin@ssf.test")
    before = _counts()
    response = _post_new_agency(client, vawa_provider="y")
    assert response.status_code == 200  # the form again, not a redirect to the agency
    page = html.unescape(response.get_data(as_text=True))
    assert f'<div class="alert alert-danger" role="alert">{agencies.VAWA_REASON}</div>' in page
    assert "Registered" not in page
    assert 'name="legal_name"' in page and "Safe Haven DV Services" in page
    assert _counts() == before
    assert mailbox.to("bo@haven.test") == []


def test_a_too_long_legal_name_is_refused_on_the_form_by_name_and_limit(client, app, cast, auth):
    auth.login("admin@ssf.test")
    before = _counts()
    response = _post_new_agency(client, legal_name="x" * 5000)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Legal name is at most 200 characters; you entered 5,000." in page
    assert "Registered" not in page
    assert _counts() == before


def test_each_length_limited_field_says_its_limit_to_the_browser(client, app, cast, auth):
    auth.login("admin@ssf.test")
    page = client.get("/agencies/new").get_data(as_text=True)
    limits = {
        "legal_name": Agency.__table__.c.legal_name.type.length,
        "ed_name": User.__table__.c.name.type.length,
        "ed_title": User.__table__.c.title.type.length,
        "ed_email": User.__table__.c.email.type.length,
        "so_name": User.__table__.c.name.type.length,
        "so_title": User.__table__.c.title.type.length,
        "so_email": User.__table__.c.email.type.length,
    }
    for name, limit in limits.items():
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert f'maxlength="{limit}"' in tag, name

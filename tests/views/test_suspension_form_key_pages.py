"""The agency page's suspension form, sent twice (issue 11, as for notices): both submissions
land on the one suspension, the second with a calm message; a page from before the form had
a key is asked to reload, never given a 500."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent
from portal.models.remedies import Suspension
from tests.conftest import csrf_token, form_key


def html(response) -> str:
    return response.get_data(as_text=True)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_suspension_posted_twice_suspends_once(client, app, cast, auth):
    auth.login("admin@ssf.test")
    page_url = f"/agencies/{cast.agency.id}"
    page = client.get(page_url)
    assert form_key(client.get(page_url)) != form_key(page)  # a new key each time it is opened
    url = f"/agencies/{cast.agency.id}/suspensions"
    fields = {
        "csrf_token": csrf_token(page),
        "form_key": form_key(page),
        "person": str(cast.officer.id),
        "reason": "Shared passwords.",
    }
    first = client.post(url, data=fields, follow_redirects=True)
    second = client.post(url, data=fields, follow_redirects=True)
    suspension = db.session.scalars(select(Suspension)).one()
    assert suspension.user_id == cast.officer.id and suspension.form_key == fields["form_key"]
    assert first.request.path == second.request.path == page_url
    assert "Suspended: Sam Officer." in html(first)
    assert "Sam Officer was already suspended with this form; nothing was done again." in html(
        second
    )
    assert count(AuditEvent, AuditEvent.action == "suspension.start") == 1


def test_a_suspension_form_from_before_the_keys_is_asked_to_reload(client, app, cast, auth):
    auth.login("admin@ssf.test")
    page_url = f"/agencies/{cast.agency.id}"
    page = client.get(page_url)
    url = f"/agencies/{cast.agency.id}/suspensions"
    fields = {"csrf_token": csrf_token(page), "person": "", "reason": "Audit finding."}
    for old in (fields, {**fields, "form_key": ""}):
        answer = client.post(url, data=old, follow_redirects=True)
        assert answer.status_code == 200 and answer.request.path == page_url
        assert "Reload the page and fill it in again" in html(answer)
    assert count(Suspension) == 0
    fields["form_key"] = form_key(client.get(page_url))
    assert "Suspended: Hope" in html(client.post(url, data=fields, follow_redirects=True))
    assert count(Suspension) == 1

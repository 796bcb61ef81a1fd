"""The amendment pages (VIII.B.2): who sees them, the form sent twice, and what people type.

The agreements stand on factory rows; only the amendments go through their service. The
signatures themselves are the browser journey's (tests/browser/test_amendment_journey.py)
and the service tests'.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models.amendments import Amendment
from portal.services import amendments
from tests import factories
from tests.conftest import csrf_token, form_key
from tests.services.helpers import REQ


def html(response) -> str:
    return response.get_data(as_text=True)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Amendment))


def drafted(cast, agreement, **fields) -> Amendment:
    values = {
        "sections": "IV.B.8",
        "new_text": "Each user has their own account; no one shares a password.",
        "reason": "The HUD data standards changed.",
        **fields,
    }
    return amendments.draft(cast.admin, agreement.id, **values, form_key=None, request=REQ)


def form_fields(page, **fields) -> dict[str, str]:
    return {
        "csrf_token": csrf_token(page),
        "form_key": form_key(page),
        "sections": "IV.B.8; VIII.B.2",
        "new_text": "Each user has their own account.",
        "reason": "The HUD data standards changed.",
        **fields,
    }


def test_the_admin_drafts_once_however_often_the_form_is_sent(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("admin@ssf.test")
    shown = html(client.get(f"/agreements/{agreement.id}"))
    assert "Draft an amendment" in shown and "Propose an amendment" not in shown
    url = f"/agreements/{agreement.id}/amendments/new"
    page = client.get(url)
    assert page.status_code == 200 and "Save the draft" in html(page)
    fields = form_fields(page)

    assert client.post(url, data={**fields, "csrf_token": "forged"}).status_code == 400
    first = client.post(url, data=fields)
    second = client.post(url, data=fields, follow_redirects=True)

    amendment = db.session.scalars(select(Amendment)).one()
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/amendments/{amendment.id}")
    assert second.request.path == f"/amendments/{amendment.id}"
    assert "already made with this form" in html(second)
    assert amendment.state == "draft" and amendment.sections == "IV.B.8; VIII.B.2"
    page = html(client.get(f"/amendments/{amendment.id}"))
    assert "Send for signature" in page and "Void the amendment" in page
    listed = html(client.get(f"/agreements/{agreement.id}"))
    assert amendment.reference in listed and "no amendment is in effect" in listed


def test_the_agencys_director_proposes_and_the_admin_declines(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("ed@hope.test")
    assert "Propose an amendment" in html(client.get(f"/agreements/{agreement.id}"))
    url = f"/agreements/{agreement.id}/amendments/new"
    page = client.get(url)
    assert "Send the proposal" in html(page)
    response = client.post(url, data=form_fields(page))
    amendment = db.session.scalars(select(Amendment)).one()
    assert response.status_code == 302 and amendment.state == "proposed"
    assert amendment.proposed_by_id == cast.ed.id

    auth.logout()
    auth.login("admin@ssf.test")
    page = client.get(f"/amendments/{amendment.id}")
    assert "Accept the proposal" in html(page) and "Eve Director" in html(page)
    empty = client.post(
        f"/amendments/{amendment.id}/decline-proposal",
        data={"csrf_token": csrf_token(page), "lock_version": "1", "reason": ""},
        follow_redirects=True,
    )
    assert "This field is required." in html(empty) or "Give a reason" in html(empty)
    client.post(
        f"/amendments/{amendment.id}/decline-proposal",
        data={
            "csrf_token": csrf_token(page),
            "lock_version": str(amendment.lock_version),
            "reason": "Not this year.",
        },
    )
    db.session.refresh(amendment)
    assert amendment.state == "proposal_declined"
    assert "Not this year." in html(client.get(f"/amendments/{amendment.id}"))


def test_another_agency_sees_none_of_it(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    amendment = drafted(cast, agreement)
    auth.login("ed@other.test")
    for url in (
        f"/amendments/{amendment.id}",
        f"/amendments/{amendment.id}/sign",
        f"/agreements/{agreement.id}/amendments/new",
    ):
        assert client.get(url).status_code == 404, url
    page = client.get("/")
    for action in ("void", "send"):
        response = client.post(
            f"/amendments/{amendment.id}/{action}",
            data={"csrf_token": csrf_token(page), "lock_version": "1", "reason": "Mine now."},
        )
        assert response.status_code == 404
    db.session.refresh(amendment)
    assert amendment.state == "draft"


def test_what_people_type_is_refused_plainly_or_shown_as_typed(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("admin@ssf.test")
    url = f"/agreements/{agreement.id}/amendments/new"
    too_long = client.post(url, data=form_fields(client.get(url), new_text="x" * 50_001))
    assert too_long.status_code == 200
    assert "at most 50,000 characters; you entered 50,001." in html(too_long)
    sections = client.post(url, data=form_fields(client.get(url), sections="IV" * 101))
    assert "at most 200 characters" in html(sections)
    assert count() == 0

    hostile = "<script>alert('x')</script> <b>bold</b>"
    rtl = "כל משתמש מקבל חשבון משלו. لكل مستخدم حساب خاص."
    response = client.post(
        url,
        data=form_fields(
            client.get(url), sections="<i>IV.B.8</i>", new_text=f"{hostile}\n{rtl}", reason=rtl
        ),
        follow_redirects=True,
    )
    page = html(response)
    assert response.status_code == 200 and count() == 1
    assert "&lt;script&gt;alert(" in page and "<script>alert(" not in page
    assert "&lt;i&gt;IV.B.8&lt;/i&gt;" in page and "<i>IV.B.8</i>" not in page
    assert rtl in page and 'dir="auto"' in page


def test_the_director_opens_a_sent_amendment_to_sign_and_declines_it(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    amendment = drafted(cast, agreement)
    auth.login("admin@ssf.test")
    page = client.get(f"/amendments/{amendment.id}")
    client.post(
        f"/amendments/{amendment.id}/send",
        data={"csrf_token": csrf_token(page), "lock_version": str(amendment.lock_version)},
    )
    db.session.refresh(amendment)
    assert amendment.state == "sent" and amendment.document is not None
    shown = html(client.get(f"/amendments/{amendment.id}"))
    assert f"/documents/versions/{amendment.document.current.id}.pdf" in shown
    assert amendment.reference in html(client.get(f"/agreements/{agreement.id}"))

    auth.logout()
    auth.login("sign@ssf.test")
    early = html(client.get(f"/amendments/{amendment.id}/sign"))
    assert "You cannot sign now" in early and "Sign the amendment</button>" not in early

    auth.logout()
    auth.login("ed@hope.test")
    page = client.get(f"/amendments/{amendment.id}/sign")
    assert page.status_code == 200
    assert "This request expires on" in html(page) and "Sign the amendment</button>" in html(page)
    response = client.post(
        f"/amendments/{amendment.id}/decline",
        data={
            "csrf_token": csrf_token(page),
            "lock_version": str(amendment.lock_version),
            "reason": "Our board has not approved it.",
        },
        follow_redirects=True,
    )
    db.session.refresh(amendment)
    assert amendment.state == "declined"
    assert "Our board has not approved it." in html(response)


def test_people_who_may_not_amend_are_told_why(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("so@hope.test")
    assert "an amendment" not in html(client.get(f"/agreements/{agreement.id}"))
    url = f"/agreements/{agreement.id}/amendments/new"
    page = client.get(url)
    assert "Only the lead agency&#39;s HMIS administrators draft amendments" in html(page)
    assert 'name="new_text"' not in html(page)
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(page),
            "form_key": "k" * 32,
            "sections": "IV.B.8",
            "new_text": "Each user has their own account.",
            "reason": "Ours.",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200 and count() == 0
    assert "may propose an amendment" in html(response)

    auth.logout()
    auth.login("admin@ssf.test")
    sent = factories.agreement(cast.other_agency, state="sent")
    assert "Draft an amendment" not in html(client.get(f"/agreements/{sent.id}"))
    assert "Only an agreement in effect can be amended" in html(
        client.get(f"/agreements/{sent.id}/amendments/new")
    )

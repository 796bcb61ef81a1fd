"""The onboarding pages: the invitation, the checklist, the signature and the approval, the
buttons each person gets, and what other people may not see or do."""

from __future__ import annotations

import re

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, Onboarding
from portal.services import onboarding, templates
from portal.services.access import SYSTEM
from tests import factories
from tests.conftest import PASSWORD, csrf_token
from tests.support import onboarding as steps

NEW_PASSWORD = "a brand new passphrase"


def _reload(ob_id: int) -> Onboarding:
    db.session.expire_all()
    return db.session.get(Onboarding, ob_id)


def _post(client, url: str, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def _signature(client, ob_id: int, action: str, password: str = PASSWORD):
    page = client.get(f"/onboarding/{ob_id}")
    return _post(
        client,
        f"/onboarding/{ob_id}/{action}",
        page,
        consent="y",
        intent="y",
        password=password,
    )


def test_from_the_invitation_to_the_approved_agreement(client, app, cast, auth, mailbox):
    steps.required_course()
    row = steps.requested(cast)
    ob_id = row.onboarding.id
    token = steps.invitation_token(mailbox, steps.NEW_EMAIL)

    page = client.get(f"/onboarding/invitation/{token}")
    assert "Welcome, Nia Newhire" in page.get_data(as_text=True)
    done = _post(
        client,
        f"/onboarding/invitation/{token}",
        page,
        password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/onboarding/{ob_id}")
    assert _reload(ob_id).state == "signing"
    html = client.get(f"/onboarding/{ob_id}").get_data(as_text=True)
    assert "Waiting for the new user to sign the HMIS User Agreement" in html
    assert "Password set" in html and "Course: Pytest Basics" in html
    assert f'action="/onboarding/{ob_id}/sign"' in html
    assert "/approve" not in html
    document = _reload(ob_id).document.current
    assert f"/documents/versions/{document.id}.pdf" in html
    assert "Read the text of the agreement" in html and "HMIS role: Case manager" in html
    wrong = _signature(client, ob_id, "sign", password="not my password at all")
    assert wrong.status_code == 302
    assert "not correct" in client.get(f"/onboarding/{ob_id}").get_data(as_text=True)
    assert _reload(ob_id).state == "signing"
    assert _signature(client, ob_id, "sign", password=NEW_PASSWORD).status_code == 302
    assert _reload(ob_id).state == "approval"

    auth.logout()
    # The used link does not work again.
    assert client.get(f"/onboarding/invitation/{token}").status_code == 400
    auth.login("ed@hope.test")
    html = client.get(f"/onboarding/{ob_id}").get_data(as_text=True)
    assert "Approve for the agency" in html and "/sign" not in html.split("h-versions")[0]
    assert _signature(client, ob_id, "approve").status_code == 302
    ob = _reload(ob_id)
    assert ob.state == "training"
    html = client.get(f"/onboarding/{ob_id}").get_data(as_text=True)
    assert "Approved by Eve Director on" in html
    assert "The training window ends" in html
    assert "Left to do: pass the test" in html


def test_other_agencies_and_colleagues_get_not_found(client, app, cast, auth):
    ob = steps.at_signing(cast)
    factories.person(
        cast.agency, email="col@hope.test", name="Col League", title="Clerk", role="agency_user"
    )
    for email in ("ed@other.test", "col@hope.test"):
        auth.login(email)
        assert client.get(f"/onboarding/{ob.id}").status_code == 404
        page = client.get("/", follow_redirects=True)
        response = _post(
            client,
            f"/onboarding/{ob.id}/sign",
            page,
            consent="y",
            intent="y",
            password=PASSWORD,
        )
        assert response.status_code == 404
        auth.logout()
    assert _reload(ob.id).state == "signing"
    auth.login("ed@other.test")
    page = client.get("/", follow_redirects=True)
    response = _post(
        client, f"/onboarding/{ob.id}/approve", page, consent="y", intent="y", password=PASSWORD
    )
    assert response.status_code == 404


def test_the_ed_sends_a_new_invitation(client, app, cast, auth, mailbox):
    row = steps.requested(cast)
    old_token = steps.invitation_token(mailbox, steps.NEW_EMAIL)
    auth.login("ed@hope.test")
    page = client.get(f"/onboarding/{row.onboarding.id}")
    html = page.get_data(as_text=True)
    assert "The invitation expires" in html and "Send a new invitation" in html
    _post(client, f"/onboarding/{row.onboarding.id}/reinvite", page)
    new_token = steps.invitation_token(mailbox, steps.NEW_EMAIL)
    assert new_token != old_token
    auth.logout()
    assert client.get(f"/onboarding/invitation/{old_token}").status_code == 400
    assert client.get(f"/onboarding/invitation/{new_token}").status_code == 200


def test_the_lead_agency_reopens_the_training_window(client, app, cast, auth):
    steps.required_course()
    ob = steps.at_signing(cast)
    steps.sign(ob.user, ob)
    steps.approve(cast.ed, ob)
    onboarding.advance(ob, "training_window_ends", None, at=clock.now(), request=SYSTEM)
    db.session.commit()
    auth.login("admin@ssf.test")
    page = client.get(f"/onboarding/{ob.id}")
    assert "Reopen the training window" in page.get_data(as_text=True)
    empty = _post(client, f"/onboarding/{ob.id}/reopen-training", page, reason="")
    assert empty.status_code == 302 and _reload(ob.id).state == "training_overdue"
    _post(client, f"/onboarding/{ob.id}/reopen-training", page, reason="Was on leave.")
    assert _reload(ob.id).state == "training"


def test_certificate_of_participation_button(client, app, cast, auth):
    ob = steps.at_signing(cast)
    request_id = ob.access_request_id
    auth.login("admin@ssf.test")
    page = client.get(f"/onboarding/{ob.id}")
    early = _post(client, f"/access-requests/{request_id}/certificate", page)
    assert early.headers["Location"].endswith(f"/access-requests/{request_id}")
    assert db.session.get(AccessRequest, request_id).certificate_id is None
    steps.train(ob.user)
    steps.sign(ob.user, ob)
    steps.approve(cast.ed, ob)
    steps.issued(cast, db.session.get(AccessRequest, request_id))
    _post(client, f"/access-requests/{request_id}/certificate", page)
    db.session.expire_all()
    row = db.session.get(AccessRequest, request_id)
    assert row.certificate is not None and len(row.certificate.versions) == 1
    auth.logout()
    auth.login("ed@hope.test")
    page = client.get("/", follow_redirects=True)
    refused = _post(client, f"/access-requests/{request_id}/certificate", page)
    assert refused.status_code == 302
    db.session.expire_all()
    assert len(db.session.get(AccessRequest, request_id).certificate.versions) == 1


def test_templates_page_shows_each_kind_and_publishes_a_user_agreement(client, app, cast, auth):
    auth.login("admin@ssf.test")
    html = client.get("/templates/").get_data(as_text=True)
    assert "HMIS User Agreement" in html and "HMIS Partner Agency Agreement" in html
    assert html.count("(current)") == 2
    page = client.get("/templates/new/user_agreement")
    assert "Publish a new HMIS User Agreement version" in page.get_data(as_text=True)
    body = templates.current(templates.USER_AGREEMENT).body
    response = _post(
        client,
        "/templates/new/user_agreement",
        page,
        version="2",
        revised_date="03/01/2027",
        title="HMIS User Agreement",
        body=body,
    )
    assert response.status_code == 302
    assert templates.current(templates.USER_AGREEMENT).version == "2"
    assert templates.current().version == "1"
    assert client.get("/templates/new/nonsense").status_code == 404


def test_the_page_fits_a_phone(client, app, cast, auth):
    """Wide content sits in a scrolling container, never the page itself."""
    ob = steps.at_signing(cast)
    auth.login(steps.NEW_EMAIL)
    html = client.get(f"/onboarding/{ob.id}").get_data(as_text=True)
    for table in re.finditer(r"<table", html):
        before = html[: table.start()]
        assert before.rfind('class="table-responsive"') > before.rfind("</div>")

"""The lead agency's HMIS admins see everyone's API tokens and revoke one with a reason
(issue 11, "An API that can act"); others are refused, and a replayed form is harmless."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage
from portal.models.integrations import ApiToken
from portal.services import api_tokens
from tests.conftest import csrf_token
from tests.services.helpers import REQ

PAGE = "/admin/api-tokens"


def html(response) -> str:
    return response.get_data(as_text=True)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_an_admin_sees_and_revokes_anothers_token(client, app, cast, auth):
    issued = api_tokens.create(cast.ed, name="Nightly <sync>", scope="write", request=REQ)
    bearer = {"Authorization": f"Bearer {issued.secret}"}
    program = app.test_client()  # an integration: no session cookie, only the token
    assert program.get("/api/v1/agreements", headers=bearer).status_code == 200
    auth.login("admin@ssf.test")
    page = client.get(PAGE)
    text = html(page)
    assert page.status_code == 200
    assert "Eve Director" in text and "Hope &amp; Harbor &lt;Shelter&gt;" in text
    assert "Nightly &lt;sync&gt;" in text and f"{issued.token.prefix}…" in text
    assert issued.secret not in text and issued.secret[len(issued.token.prefix) :] not in text
    assert f'href="{PAGE}"' in html(client.get("/"))  # in the admin's navigation

    url = f"{PAGE}/{issued.token.id}/revoke"
    fields = {"csrf_token": csrf_token(page), "reason": "Eve left the agency."}
    done = client.post(url, data=fields, follow_redirects=True)
    assert done.request.path == PAGE
    assert "is revoked: it no longer works. Its owner has been told by e-mail." in html(done)
    answer = program.get("/api/v1/agreements", headers=bearer)
    assert answer.status_code == 401 and "revoked" in answer.get_json()["error"]["message"]
    assert "Revoke “" not in html(client.get(PAGE))  # no button for a revoked token

    # The same form sent again (a reload, a double click): nothing new.
    again = client.post(url, data=fields, follow_redirects=True)
    assert "was already revoked; nothing was changed or sent." in html(again)
    assert count(AuditEvent, AuditEvent.action == "api_token.revoke") == 1
    assert count(OutboxMessage, OutboxMessage.to_addr == "ed@hope.test") == 1


def test_a_revoke_without_reason_or_csrf_changes_nothing(client, app, cast, auth):
    issued = api_tokens.create(cast.ed, name="Sync", scope="read", request=REQ)
    auth.login("admin@ssf.test")
    token = csrf_token(client.get(PAGE))
    url = f"{PAGE}/{issued.token.id}/revoke"
    answer = client.post(url, data={"csrf_token": token, "reason": " "}, follow_redirects=True)
    assert answer.status_code == 200 and "Give the reason" in html(answer)
    assert client.post(url, data={"reason": "Left"}).status_code == 400  # no CSRF token
    missing = client.post(f"{PAGE}/{2**63 + 5}/revoke", data={"csrf_token": token, "reason": "x"})
    assert missing.status_code == 404
    assert db.session.get(ApiToken, issued.token.id).revoked_at is None


def test_others_are_refused_and_see_no_ones_tokens(client, app, cast, auth):
    issued = api_tokens.create(cast.other_ed, name="Their sync", scope="write", request=REQ)
    for email in ("ed@hope.test", "sign@ssf.test"):
        auth.login(email)
        page = client.get(PAGE, follow_redirects=True)
        assert page.request.path == "/" and "Their sync" not in html(page)
        assert "HMIS admins can see and revoke" in html(page)
        assert f'href="{PAGE}"' not in html(page)
        token = csrf_token(client.get("/account/api-tokens"))
        answer = client.post(
            f"{PAGE}/{issued.token.id}/revoke",
            data={"csrf_token": token, "reason": "Mine now"},
            follow_redirects=True,
        )
        assert answer.request.path == "/" and "HMIS admins can see and revoke" in html(answer)
        auth.logout()
    assert db.session.get(ApiToken, issued.token.id).revoked_at is None
    assert api_tokens.authenticate(issued.secret)[0].id == cast.other_ed.id

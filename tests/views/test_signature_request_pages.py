"""A signer's `/sign/<secret>` link and the follow-up buttons, through the pages: the link
leads its signer to the signing page (which says when the request expires), and nobody
else; a replaced link explains itself; only lead admins see and use the buttons."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, SignatureRequest
from portal.services import deadlines, timefmt
from tests.conftest import csrf_token
from tests.services.helpers import sent_agreement

SENT = datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("America/Los_Angeles"))


def _link(address: str) -> str:
    body = db.session.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.to_addr == address)
        .order_by(OutboxMessage.id.desc())
    ).first()
    return re.search(r"(/sign/[A-Za-z0-9_-]+)", body).group(1)


def test_the_link_leads_its_signer_to_the_signing_page_with_the_expiry(client, app, cast, auth):
    with time_machine.travel(SENT, tick=False):
        agreement = sent_agreement(cast)
        link = _link("ed@hope.test")
        anonymous = client.get(link)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

        auth.login("ed@other.test")
        refused = client.get(link)
        assert refused.status_code == 403
        assert "sent to someone else" in refused.get_data(as_text=True)
        auth.logout()

        auth.login("ed@hope.test")
        followed = client.get(link)
        assert followed.status_code == 302
        assert followed.headers["Location"].endswith(f"/agreements/{agreement.id}/sign")
        db.session.expire_all()
        assert db.session.scalar(select(SignatureRequest.opened_at)) is not None
        page = client.get(followed.headers["Location"]).get_data(as_text=True)
        [expiry] = deadlines.pending_for("agreement", agreement.id)
        assert "This request expires on" in page
        assert timefmt.local_datetime(expiry.due_at) in page  # "December 31, 2026, 11:59 pm PST"
        assert "PST" in timefmt.local_datetime(expiry.due_at)
        assert expiry.rule_text.replace("'", "&#39;") in page
        unknown = client.get("/sign/not-a-real-link")
        assert unknown.status_code == 404 and "not one the portal sent" in unknown.get_data(
            as_text=True
        )


def test_lead_admins_follow_up_from_the_agreement_page_and_others_cannot(client, app, cast, auth):
    with time_machine.travel(SENT, tick=False):
        agreement = sent_agreement(cast)
        old = _link("ed@hope.test")
        url = f"/agreements/{agreement.id}"

        auth.login("ed@hope.test")
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert "Requests for a signature" in html and "Eve Director" in html
        assert "not yet" in html and "Send a new link" not in html
        refused = client.post(
            f"/signature-requests/agreement/{agreement.id}/remind",
            data={"csrf_token": csrf_token(page)},
        )
        assert refused.status_code == 302
        assert not db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.subject.like("Reminder%"))
        ).all()
        auth.logout()

        auth.login("admin@ssf.test")
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert "Send a reminder now" in html and "Send a new link" in html
        reminded = client.post(
            f"/signature-requests/agreement/{agreement.id}/remind",
            data={"csrf_token": csrf_token(page)},
            follow_redirects=True,
        )
        assert "Reminder sent" in reminded.get_data(as_text=True)
        resent = client.post(
            f"/signature-requests/agreement/{agreement.id}/resend",
            data={"csrf_token": csrf_token(page)},
            follow_redirects=True,
        )
        html = resent.get_data(as_text=True)
        assert "A new link is on its way" in html and "Replaced by a newer link" in html
        auth.logout()

        auth.login("ed@hope.test")
        gone = client.get(old)
        assert gone.status_code == 410 and "newer link" in gone.get_data(as_text=True)
        assert client.get(_link("ed@hope.test")).status_code == 302


def test_the_new_user_sees_when_the_request_to_sign_expires(client, app, cast, auth):
    from tests.support import onboarding as steps

    with time_machine.travel(SENT, tick=False):
        ob = steps.at_signing(cast)
        auth.login(steps.NEW_EMAIL)
        followed = client.get(_link(steps.NEW_EMAIL))
        assert followed.headers["Location"].endswith(f"/onboarding/{ob.id}#h-sign")
        html = client.get(f"/onboarding/{ob.id}").get_data(as_text=True)
        [expiry] = deadlines.pending_for("onboarding", ob.id)
        assert f"This request expires on <strong>{timefmt.local_datetime(expiry.due_at)}" in html
        assert "Send a reminder now" not in html

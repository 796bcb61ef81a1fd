"""The forms that give a notice, sent twice (issue 11, "No duplicate notices"): both
submissions land on the one notice, the second with a calm message; a page from before the
forms had a key is asked to reload, never given a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import DefaultNotice, Document, OutboxMessage, TerminationNotice
from portal.services import deadlines, site_visits
from tests import factories
from tests.conftest import PASSWORD, csrf_token, form_key
from tests.notices import give_default
from tests.services.helpers import REQ


def html(response) -> str:
    return response.get_data(as_text=True)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def signed_fields(page) -> dict[str, str]:
    return {
        "csrf_token": csrf_token(page),
        "form_key": form_key(page),
        "consent": "y",
        "intent": "y",
        "password": PASSWORD,
    }


def test_a_notice_of_default_posted_twice_lands_on_one_notice(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("sign@ssf.test")
    url = f"/notices/default/give/{agreement.id}"
    page = client.get(url)
    assert form_key(client.get(url)) != form_key(page)  # a new key each time it is opened
    fields = {
        **signed_fields(page),
        "provisions": ["V.E.12"],
        "description": "Separations were reported late.",
        "cure_required": "Report every separation within one business day.",
    }
    first = client.post(url, data=fields)
    mails = count(OutboxMessage)
    second = client.post(url, data=fields, follow_redirects=True)

    notice = db.session.scalars(select(DefaultNotice)).one()
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/notices/default/{notice.id}")
    assert second.status_code == 200 and second.request.path == f"/notices/default/{notice.id}"
    assert (
        f"Notice of default {notice.reference} was already given with this form; nothing was "
        "signed or sent again." in html(second)
    )
    assert count(Document, Document.kind == "default_notice") == 1
    assert count(OutboxMessage) == mails


def test_a_notice_of_termination_posted_twice_lands_on_one_notice(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("ed@hope.test")
    url = f"/notices/termination/give/{agreement.id}"
    fields = {**signed_fields(client.get(url)), "reason": "We are merging."}
    first = client.post(url, data=fields)
    second = client.post(url, data=fields)
    notice = db.session.scalars(select(TerminationNotice)).one()
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert second.headers["Location"].endswith(f"/notices/termination/{notice.id}")
    assert "was already given with this form" in html(client.get(second.headers["Location"]))


def test_a_form_from_before_the_keys_is_asked_to_reload(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("sign@ssf.test")
    url = f"/notices/default/give/{agreement.id}"
    fields = {
        **signed_fields(client.get(url)),
        "provisions": ["V.E.12"],
        "description": "Separations were reported late.",
        "cure_required": "Report every separation within one business day.",
    }
    for old in ({k: v for k, v in fields.items() if k != "form_key"}, {**fields, "form_key": ""}):
        response = client.post(url, data=old)
        assert response.status_code == 200
        assert "Reload the page and fill it in again; nothing was given or signed." in html(
            response
        )
    assert count(DefaultNotice) == 0
    # Reloaded, the form has a key again and gives the notice.
    fields["form_key"] = form_key(client.get(url))
    assert client.post(url, data=fields).status_code == 302 and count(DefaultNotice) == 1


def test_a_declaration_posted_twice_declares_once(client, app, cast, auth):
    start = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        agreement = factories.agreement(cast.agency)
        notice = give_default(cast.signatory, agreement)
        clock.move_to(notice.cure_ends_at + timedelta(seconds=1))
        deadlines.sweep()
        auth.login("sign@ssf.test")
        url = f"/notices/default/{notice.id}/declare"
        fields = signed_fields(client.get(url))
        first = client.post(url, data=fields)
        second = client.post(url, data=fields, follow_redirects=True)
    assert first.status_code == 302
    assert second.request.path == f"/notices/default/{notice.id}"
    assert "already declared terminated with this form" in html(second)
    assert count(Document, Document.kind == "declaration_of_termination") == 1


def test_a_notice_from_a_site_visit_finding_posted_twice_is_given_once(client, app, cast, auth):
    factories.agreement(cast.agency, documents=True)
    visit = site_visits.schedule(
        cast.admin,
        cast.agency.id,
        visit_at=datetime(2030, 1, 7, 18, 0, tzinfo=UTC),
        visitors="Ada",
        request=REQ,
    )
    site_visits.step(cast.admin, visit.id, "record_visit", request=REQ)
    finding = site_visits.add_finding(
        cast.admin, visit.id, kind="finding", text="Shared passwords.", request=REQ
    )
    auth.login("sign@ssf.test")
    url = f"/site-visits/{visit.id}/findings/{finding.id}/notice"
    page = client.get(url)
    fields = {
        **signed_fields(page),
        "provisions": ["IV.B.8"],
        "description": "Shared passwords.",
        "cure_required": "One account for each person.",
    }
    first = client.post(url, data=fields)
    second = client.post(url, data=fields, follow_redirects=True)
    notice = db.session.scalars(select(DefaultNotice)).one()
    assert first.status_code == 302
    assert second.request.path == f"/notices/default/{notice.id}"
    assert f"The notice of default {notice.reference} was already given" in html(second)

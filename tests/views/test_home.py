"""Every person's home page: what awaits them, with dates, deadlines and the time left."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.services.timefmt import local_datetime
from tests import factories
from tests.notices import give_default
from tests.services import awaiting_rows

START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # Tuesday, December 1, 10:00 am Pacific
DAY = timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def home_of(client, auth, email: str) -> str:
    auth.login(email)
    response = client.get("/")
    assert response.status_code == 200  # everyone's home, agency people's too
    return html.unescape(response.get_data(as_text=True))


def words(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def items(page: str) -> list[str]:
    """The text of each item under "What awaits you", tags removed."""
    found = re.findall(r'<li class="list-group-item[^"]*">(.*?)</li>', page, re.S)
    return [words(item) for item in found]


def test_the_executive_director_sees_the_agreement_to_sign_on_their_home(
    app, cast, client, auth, clock
):
    sent = factories.agreement(cast.agency, state="sent", at=START - 2 * DAY)
    page = home_of(client, auth, "ed@hope.test")

    assert "What awaits you" in page
    assert f'href="/agencies/{cast.agency.id}"' in page
    [item] = items(page)
    assert item.startswith(f"Sign the agreement: {sent.reference}")
    assert f"Waiting since {local_datetime(START - 2 * DAY)}" in item
    assert f'<a class="fw-semibold" href="/agreements/{sent.id}">' in page
    raw = client.get("/").get_data(as_text=True)
    # The agency's name is escaped, never markup.
    assert "Your agency's page: Hope &amp; Harbor &lt;Shelter&gt;" in words(raw)


def test_a_notice_shows_its_deadline_rule_and_time_left(app, cast, client, auth, clock):
    agreement = factories.agreement(cast.agency, state="effective", at=START - 30 * DAY)
    notice = give_default(cast.signatory, agreement)

    [item] = items(home_of(client, auth, "ed@hope.test"))
    assert item.startswith(f"Submit a cure: notice of default {notice.reference}")
    assert f"Due {local_datetime(notice.cure_ends_at)}" in item
    assert "(10 calendar days counted from the day after notice) · 10 days left" in item

    clock.move_to(notice.cure_ends_at + timedelta(minutes=1))
    page = home_of(client, auth, "ed@hope.test")
    assert "list-group-item-danger" in page
    assert "· overdue" in items(page)[0]


def test_nothing_waiting_says_so(app, cast, client, auth, clock):
    page = home_of(client, auth, "so@hope.test")
    assert items(page) == []
    assert "Nothing waits on you right now." in page


def test_lead_staff_keep_their_lists_beside_what_awaits_them(app, cast, client, auth, clock):
    signed = factories.agreement(cast.agency, state="agency_signed", at=START - DAY)
    sent = factories.agreement(cast.other_agency, state="sent", at=START - 3 * DAY)

    page = home_of(client, auth, "sign@ssf.test")
    [item] = items(page)
    assert item.startswith(f"Countersign the agreement: {signed.reference}")
    assert "Awaiting the lead agency's countersignature" in page
    assert "Awaiting the executive director's signature" in page
    assert sent.reference in page
    assert "Your agency's page" not in page

    page = home_of(client, auth, "admin@ssf.test")
    assert items(page) == []  # sent and signed agreements wait on others
    assert signed.reference in page and sent.reference in page


def test_a_new_user_sees_their_next_step(app, cast, client, auth, clock):
    agreement = factories.agreement(cast.agency, state="effective", at=START - 30 * DAY)
    request = awaiting_rows.open_request(
        cast.agency, agreement, cast.officer, email="nia@hope.test", onboarding_state="signing"
    )
    page = home_of(client, auth, "nia@hope.test")
    [item] = items(page)
    assert item.startswith("Sign your HMIS User Agreement")
    assert f'href="/onboarding/{request.onboarding.id}"' in page


def test_the_navigation_collapses_and_offers_each_person_their_pages(
    app, cast, client, auth, clock
):
    page = home_of(client, auth, "ed@hope.test")
    assert 'class="navbar navbar-expand-lg' in page
    assert 'data-bs-toggle="collapse" data-bs-target="#main-nav"' in page
    assert 'class="collapse navbar-collapse" id="main-nav"' in page
    assert "/bootstrap/static/js/bootstrap.min.js" in page  # served locally
    assert "<noscript><style>#main-nav.collapse { display: block; }" in page  # no JS: shown
    assert ">Access requests</a>" in page and ">Training</a>" in page
    auth.logout()
    factories.person(
        cast.agency, email="user@hope.test", name="Ulla User", title="Intake", role="agency_user"
    )
    page = home_of(client, auth, "user@hope.test")
    assert ">Training</a>" in page and ">Access requests</a>" not in page
    auth.logout()
    page = home_of(client, auth, "audit@ssf.test")
    assert ">Access requests</a>" in page and ">Audit log</a>" in page

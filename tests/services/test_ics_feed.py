"""The calendar's deadlines and each person's ICS feed (issue 9, item 5): parsed with the
icalendar library, one VEVENT per deadline with a stable UID and a UTC start; a person sees
their own agency's deadlines only; revoked and bad tokens are 404."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from icalendar import Calendar

from portal.extensions import db
from portal.models import CalendarFeed, Deadline
from portal.services import calendar_feeds
from portal.services.deadlines import REMINDER
from tests import factories
from tests.conftest import csrf_token
from tests.notices import give_default
from tests.services.helpers import REQ

NOW = "2027-03-10 18:00:00+00:00"  # Wednesday, 10 am PST


@pytest.fixture
def notices(cast):
    with time_machine.travel(NOW, tick=False):
        mine = give_default(cast.signatory, factories.agreement(cast.agency))
        theirs = give_default(cast.signatory, factories.agreement(cast.other_agency))
        yield mine, theirs


def _events(body: bytes) -> list:
    return [c for c in Calendar.from_ical(body).walk() if c.name == "VEVENT"]


def _cure_deadline(notice) -> Deadline:
    return db.session.scalars(
        db.select(Deadline).where(
            Deadline.case_type == "default_notice",
            Deadline.case_id == notice.id,
            Deadline.event != REMINDER,
        )
    ).one()


def test_the_feed_parses_and_shows_the_persons_own_deadlines(cast, notices):
    mine, theirs = notices
    token = calendar_feeds.create(cast.ed, REQ)
    events = _events(calendar_feeds.ics(token))
    assert len(events) == 1
    [event] = events
    due = _cure_deadline(mine)
    assert str(event["uid"]) == f"deadline-{due.id}@portal.test"
    start = event.decoded("dtstart")
    assert start.tzinfo is not None and start.utcoffset().total_seconds() == 0
    assert start == due.due_at
    assert "Notice of Default" in str(event["summary"]) and "Cure period" in str(event["summary"])
    assert str(event["url"]) == f"http://portal.test/notices/default/{mine.id}"

    other = calendar_feeds.create(cast.other_ed, REQ)
    [their_event] = _events(calendar_feeds.ics(other))
    assert str(their_event["uid"]) == f"deadline-{_cure_deadline(theirs).id}@portal.test"

    staff = calendar_feeds.create(cast.admin, REQ)
    uids = {str(e["uid"]) for e in _events(calendar_feeds.ics(staff))}
    assert len(uids) == 2
    # Stable: the same deadline has the same UID the next time the feed is read.
    assert uids == {str(e["uid"]) for e in _events(calendar_feeds.ics(staff))}


def test_only_the_hash_is_kept_and_a_new_token_revokes_the_old(cast, notices):
    first = calendar_feeds.create(cast.ed, REQ)
    rows = db.session.scalars(db.select(CalendarFeed)).all()
    assert first not in {r.token_hash for r in rows} and len(rows[0].token_hash) == 64
    second = calendar_feeds.create(cast.ed, REQ)
    with pytest.raises(calendar_feeds.NotFound):
        calendar_feeds.ics(first)
    assert _events(calendar_feeds.ics(second))


def test_feed_urls_revoked_and_bad_are_404(client, auth, cast, notices):
    auth.login(cast.ed.email)
    page = client.get("/calendar/feed")
    assert page.status_code == 200 and "You have no feed address" in page.get_data(as_text=True)
    made = client.post("/calendar/feed", data={"csrf_token": csrf_token(page)})
    html = made.get_data(as_text=True)
    assert "shown only this once" in html
    address = html.split('id="feed-address" type="text" readonly value="')[1].split('"')[0]
    path = address.removeprefix("http://portal.test")
    auth.logout()
    feed = client.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert len(_events(feed.data)) == 1
    assert "shown only this once" not in client.get("/calendar/feed").get_data(as_text=True)

    for bad in (
        "/calendar/feed/nope.ics",
        "/calendar/feed/" + "A" * 43 + ".ics",
        "/calendar/feed/%00%27.ics",
        path.replace(".ics", "x.ics"),
    ):
        assert client.get(bad).status_code == 404, bad

    auth.login(cast.ed.email)
    page = client.get("/calendar/feed")
    assert "Revoke the address" in page.get_data(as_text=True)
    client.post("/calendar/feed/revoke", data={"csrf_token": csrf_token(page)})
    assert client.get(path).status_code == 404
    gone = client.post("/calendar/feed", data={})
    assert gone.status_code in (302, 400)  # no CSRF token: nothing made


def test_the_month_calendar_shows_what_the_person_may_see(client, auth, cast, notices):
    mine, theirs = notices
    due = _cure_deadline(mine).due_at.astimezone(UTC)
    with time_machine.travel(NOW, tick=False):
        auth.login(cast.ed.email)
        html = client.get(f"/calendar/?year={due.year}&month={due.month}").get_data(as_text=True)
        assert f'href="/notices/default/{mine.id}"' in html
        assert f'href="/notices/default/{theirs.id}"' not in html
        assert "Cure period" in html and "d-md-none" in html
        assert "Previous month" in html and "Next month" in html
        # A bad month falls back to this month, never a 500.
        assert client.get("/calendar/?year=abc&month=13").status_code == 200
        auth.logout()
        auth.login(cast.admin.email)
        html = client.get(f"/calendar/?year={due.year}&month={due.month}").get_data(as_text=True)
        assert f'href="/notices/default/{theirs.id}"' in html
        assert datetime(2027, 3, 10, tzinfo=UTC)  # time_machine pins "now"

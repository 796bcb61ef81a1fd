"""A person's ICS feed at a secret, revocable address, for Outlook and Google Calendar.

The token is shown once, when it is made; only its SHA-256 is kept. A person has at most
one live feed: making a new one revokes the old. A revoked or unknown token is a 404.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy import select, update

from portal import clock
from portal.extensions import db
from portal.models import CalendarFeed, User
from portal.services import audit, deadline_calendar, links
from portal.services.access import RequestInfo
from portal.services.errors import NotFound
from portal.services.unit import unit_of_work

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
PAST_DAYS, FUTURE_DAYS = 90, 800  # what a feed holds around today


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active(user: User) -> CalendarFeed | None:
    query = select(CalendarFeed).where(
        CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
    )
    return db.session.scalars(query.order_by(CalendarFeed.id.desc())).first()


def create(user: User, request: RequestInfo) -> str:
    """A new secret token for `user`'s feed (the old one stops working). Returned once."""
    if not user.is_authenticated or not user.active:
        raise NotFound()
    token = secrets.token_urlsafe(32)
    with unit_of_work():
        now = clock.now()
        _revoke_all(user, now)
        feed = CalendarFeed(user_id=user.id, token_hash=_hash(token), created_at=now)
        db.session.add(feed)
        db.session.flush()
        audit.record(
            user,
            "calendar_feed.create",
            feed,
            f"Made a calendar feed address for {user.email}",
            agency_id=user.agency_id,
            request=request,
        )
    return token


def revoke(user: User, request: RequestInfo) -> bool:
    """Stops `user`'s feed address; False if there was none."""
    if not user.is_authenticated or not user.active:
        raise NotFound()
    with unit_of_work():
        feed = active(user)
        if feed is None:
            return False
        _revoke_all(user, clock.now())
        audit.record(
            user,
            "calendar_feed.revoke",
            feed,
            f"Revoked the calendar feed address of {user.email}",
            agency_id=user.agency_id,
            request=request,
        )
    return True


def _revoke_all(user: User, now) -> None:
    db.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def owner(token: str) -> User:
    """The person whose live feed this token opens; NotFound for anything else."""
    if not TOKEN_SHAPE.match(token or ""):
        raise NotFound()
    feed = db.session.scalars(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None)
        )
    ).first()
    if feed is None or not feed.user.active:
        raise NotFound()
    return feed.user


def ics(token: str) -> bytes:
    """The feed: one VEVENT per pending deadline the token's owner may see."""
    user = owner(token)
    now = clock.now()
    start, end = now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS)
    found = deadline_calendar.entries(user, start, end)
    host = urlsplit(current_app.config["PORTAL_BASE_URL"]).hostname or "portal"
    cal = Calendar()
    cal.add("prodid", "-//HMIS Partner Portal//Deadlines//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "HMIS Partner Portal deadlines")
    for entry in found:
        event = Event()
        event.add("uid", f"deadline-{entry.deadline_id}@{host}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", entry.due_at.astimezone(UTC))
        event.add("dtend", entry.due_at.astimezone(UTC))
        event.add("summary", entry.summary)
        url = links.page(entry.url)
        event.add("description", f"{entry.rule_text}\n{url}")
        event.add("url", url)
        cal.add_component(event)
    return cal.to_ical()

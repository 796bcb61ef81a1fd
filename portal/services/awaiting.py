"""What awaits a person across every process: their home page's list, and the reminder
e-mails for what has waited on them too long.

Each registered process says what of its own waits on a person (`Process.awaiting`); this
module only gathers, orders and presents those answers, so it imports no process's service.
A process's hook decides with its machine (`awaited_steps`): a case waits on a person when
one of the steps the person may take now is one the case waits for (not a way out, such as
voiding or withdrawing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import AwaitingReminder, User
from portal.notify import outbox
from portal.processes import Awaiting, Process, registry
from portal.services import links, standing
from portal.services.errors import Conflict
from portal.services.timefmt import local_date, local_datetime, short_date
from portal.services.unit import unit_of_work
from workflows.engine import Machine, Option

log = logging.getLogger("portal.awaiting")


# -- for the processes' hooks ----------------------------------------------------------


def states_for(machine: Machine, role: str) -> list[str]:
    """The states in which a case could wait on a person of `role`: those a step the case
    waits for leaves, when `role` may take it. A hook selects only cases in these states,
    then asks the machine about each (`awaited_steps`)."""
    states = {
        source
        for event in machine.events
        if event.awaited and not machine.by_portal_only(event) and role in event.roles
        for source in event.sources
    }
    return sorted(states)


def awaited_steps(machine: Machine, options: Iterable[Option]) -> list[Option]:
    """Of a person's options on a case (the service's `options`), the steps they may take now
    that the case waits for; empty when the case does not wait on them."""
    return [o for o in options if o.allowed and machine.event(o.event).awaited]


# -- gathering -------------------------------------------------------------------------


def _collect(user: User) -> list[tuple[Process, Awaiting]]:
    found = []
    for process in registry():
        if process.awaiting is not None:
            found.extend((process, item) for item in process.awaiting(user))
    now = clock.now()
    # Overdue first; then what has a deadline, soonest first; then the rest, oldest first.
    found.sort(key=lambda pair: _urgency(pair[1], now))
    return found


def _urgency(item: Awaiting, now: datetime) -> tuple:
    if item.due_at is None:
        return (2, item.since)
    return (0 if _overdue(item, now) else 1, item.due_at)


def _overdue(item: Awaiting, now: datetime) -> bool:
    return item.due_at is not None and item.due_at <= now


def for_person(user: User) -> list[Awaiting]:
    """Everything that waits on `user` in every process: overdue first, then oldest first."""
    if not user.is_authenticated or not user.active:
        return []
    return [item for _, item in _collect(user)]


# -- for the home page and the e-mails ---------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One item as the home page and the reminder show it: its deadline's rule without the
    end (the page gives the end itself), and the time left ("3 days left", "overdue")."""

    item: Awaiting
    overdue: bool
    left: str
    rule: str


def time_left(due_at: datetime | None, now: datetime) -> str:
    """ "3 days left", "5 hours left", "overdue"; "" without a deadline."""
    if due_at is None:
        return ""
    if due_at <= now:
        return "overdue"
    remaining = due_at - now
    if remaining >= timedelta(days=1):
        days = remaining.days
        return f"{days} day{'s' if days != 1 else ''} left"
    hours = int(remaining.total_seconds() // 3600)
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''} left"
    return "less than an hour left"


def rule_words(text: str) -> str:
    """A deadline's rule without its end: "10 calendar days counted from the day after
    notice; ends 11:59:59 pm … on …" → "10 calendar days counted from the day after notice"
    (workflows.calendar.describe puts the end last)."""
    rule, _, _ = text.rpartition("; ends ")
    return rule or text


def shown(items: list[Awaiting]) -> list[Shown]:
    now = clock.now()
    return [
        Shown(item, _overdue(item, now), time_left(item.due_at, now), rule_words(item.rule))
        for item in items
    ]


# -- reminders -------------------------------------------------------------------------


def send_reminders() -> int:
    """E-mails each active person one digest of what has waited on them longer than
    AWAITING_REMINDER_DAYS and was not yet reminded of in its current state; returns how
    many e-mails were queued. One transaction per person: the reminder rows and the e-mail
    are kept together or not at all, so a second run (or a second scheduler) sends nothing
    again."""
    days = current_app.config["AWAITING_REMINDER_DAYS"]
    cutoff = clock.now() - timedelta(days=days)
    # Only people who can log in: the link leads to a page behind the login (someone not
    # yet past their invitation hears from the invitation's own reminders).
    query = (
        select(User.id)
        .where(User.active.is_(True), User.password_hash.is_not(None))
        .order_by(User.id)
    )
    sent = 0
    for user_id in list(db.session.scalars(query)):
        try:
            sent += _remind(user_id, cutoff, days)
        except Conflict:
            # Another scheduler reminded this person at the same moment: its e-mail stands.
            log.info("reminder for user %s was sent by another run", user_id)
        except Exception:
            # Nothing of this person's was kept; the others still hear, and the next run
            # tries this person again.
            log.warning("reminder for user %s failed", user_id, exc_info=True)
    return sent


def _remind(user_id: int, cutoff: datetime, days: int) -> int:
    with unit_of_work():
        user = db.session.get(User, user_id)
        if user is None or standing.active_for_user(user) is not None:
            return 0  # a suspended person cannot act on any of it
        already = {
            (row.case_type, row.case_id, row.state)
            for row in db.session.scalars(
                select(AwaitingReminder).where(AwaitingReminder.user_id == user.id)
            )
        }
        fresh: dict[tuple[str, int, str], Awaiting] = {}
        for process, item in _collect(user):
            key = (process.name, item.case.id, item.case.state)
            if item.since < cutoff and key not in already:
                fresh.setdefault(key, item)
        if not fresh:
            return 0
        now = clock.now()
        for (case_type, case_id, state), item in fresh.items():
            db.session.add(
                AwaitingReminder(
                    user_id=user.id,
                    case_type=case_type,
                    case_id=case_id,
                    state=state,
                    sent_at=now,
                    details={"title": item.title, "url": item.url},
                )
            )
        items = list(fresh.values())
        count = len(items)
        outbox.queue(
            user.email,
            f"Waiting on you in the HMIS Partner Portal: {count} item{'s' if count != 1 else ''}",
            _digest(user, shown(items), days),
        )
    return 1


def _digest(user: User, items: list[Shown], days: int) -> str:
    lines = [
        f"Hello {user.name},",
        "",
        f"{'These have' if len(items) > 1 else 'This has'} waited on you for more than "
        f"{days} day{'s' if days != 1 else ''}:",
        "",
    ]
    for row in items:
        item = row.item
        lines.append(f"- {item.title}")
        lines.append(f"  Waiting since {short_date(local_date(item.since))}")
        if item.due_at is not None:
            rule = f" ({row.rule})" if row.rule else ""
            lines.append(f"  Due {local_datetime(item.due_at)}{rule}: {row.left}")
        if item.detail:
            lines.append(f"  {item.detail}")
        lines.append(f"  {links.page(item.url)}")
        lines.append("")
    lines.append("Your home page in the portal always shows what awaits you: " + links.page("/"))
    return "\n".join(lines) + "\n"

"""Idle accounts (IV.B.5): an account nobody signs in to is deactivated, after reminders,
and the lead agency's HMIS admins reactivate it, giving a reason.

The idle clock of an account starts at the latest of: its last sign-in, the moment its
password was set (or, if unknown, its creation) and its last reactivation. An account that
never set a password is not counted: it cannot sign in, and its invitation expires by its
own rule. The rule is the same for the lead agency's staff as for the agencies' people.

Reminders and reactivations are recorded in the audit log, which is also what keeps each
reminder to one e-mail per idle period, however often the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal import clock, sessions
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.notify import outbox
from portal.services import audit, links, security_officers
from portal.services.access import SYSTEM, RequestInfo, require_role
from portal.services.account_standing import (
    IDLE_PREFIX,
    idle_days,
    is_separated,
)
from portal.services.errors import NotFound, ServiceError
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_datetime
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text

REMINDER_ACTION = "account.idle_reminder"
DEACTIVATE_ACTION = "account.deactivate_idle"
REACTIVATE_ACTION = "account.reactivate"


def idle_reason() -> str:
    return f"{IDLE_PREFIX} {idle_days()} days"


def _events(user: User, action: str, since: datetime | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.action == action,
        AuditEvent.object_type == "user",
        AuditEvent.object_id == user.id,
    )
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def idle_since(user: User) -> datetime | None:
    """When this account's idle clock started, or None if it is not counted."""
    if not user.active or not user.password_hash:
        return None
    starts = [t for t in (user.last_login_at, user.password_changed_at) if t is not None]
    if not starts:
        starts.append(user.created_at)
    reactivations = _events(user, REACTIVATE_ACTION)
    if reactivations:
        starts.append(reactivations[-1].at)
    return max(starts)


def idle_deadline(user: User) -> datetime | None:
    since = idle_since(user)
    return None if since is None else since + timedelta(days=idle_days())


# -- the job -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    reminded: int = 0
    deactivated: int = 0
    failed: int = 0


def sweep_idle() -> SweepResult:
    """Reminds and deactivates idle accounts; each account in its own transaction, so one
    failure does not stop the rest. Running it again sends nothing twice."""
    result = SweepResult()
    query = select(User.id).where(User.active.is_(True), User.password_hash.is_not(None))
    for user_id in list(db.session.scalars(query.order_by(User.id))):
        try:
            outcome = _check(user_id)
        except Exception:
            current_app.logger.exception("idle account check failed for user %s", user_id)
            result.failed += 1
            continue
        if outcome == "reminded":
            result.reminded += 1
        elif outcome == "deactivated":
            result.deactivated += 1
    return result


def _check(user_id: int) -> str | None:
    with unit_of_work():
        user = db.session.get(User, user_id)
        if user is None:
            return None
        since = idle_since(user)
        if since is None:
            return None
        now = clock.now()
        ends = since + timedelta(days=idle_days())
        if now >= ends:
            _deactivate_idle(user, now)
            return "deactivated"
        passed = [
            d
            for d in current_app.config["ACCOUNT_IDLE_REMINDER_DAYS"]
            if now >= ends - timedelta(days=d)
        ]
        if not passed:
            return None
        days = min(passed)
        sent = _events(user, REMINDER_ACTION, since)
        if any((e.after or {}).get("days") == days for e in sent):
            return None
        _remind(user, days, ends, now)
        return "reminded"


def _remind(user: User, days: int, ends: datetime, now: datetime) -> None:
    plural = "" if days == 1 else "s"
    outbox.queue(
        user.email,
        f"Sign in within {days} day{plural} to keep your HMIS portal account",
        f"Hello {user.name},\n\nNobody has signed in to your HMIS portal account for a while. "
        f"Unless you sign in before {local_datetime(ends)}, the account will be deactivated "
        f"({idle_reason()}).\n\n{links.page('/login')}\n",
    )
    audit.record(
        None,
        REMINDER_ACTION,
        user,
        f"Reminded {user.name} that their account is deactivated on {local_datetime(ends)}",
        agency_id=user.agency_id,
        after={"days": days},
        request=SYSTEM,
        at=now,
    )


def _deactivate_idle(user: User, now: datetime) -> None:
    user.active = False
    user.deactivated_at = now
    user.deactivated_reason = idle_reason()
    sessions.end_for_user(user.id, "deactivated")
    audit.record(
        None,
        DEACTIVATE_ACTION,
        user,
        f"Deactivated {user.name}'s account: {idle_reason()}",
        agency_id=user.agency_id,
        before={"active": True},
        after={"active": False, "reason": idle_reason()},
        request=SYSTEM,
        at=now,
    )
    lead = lead_agency_name()
    outbox.queue(
        user.email,
        "Your HMIS portal account was deactivated",
        f"Hello {user.name},\n\nYour HMIS portal account was deactivated: {idle_reason()}. "
        f"To use it again, ask your security officer or {lead}'s HMIS team to reactivate it.\n",
    )
    for person in _told(user):
        outbox.queue(
            person.email,
            f"Account deactivated: {user.name}",
            f"The HMIS portal account of {user.name} <{user.email}> was deactivated: "
            f"{idle_reason()}. {lead}'s HMIS team can reactivate it, giving a reason:\n"
            f"{links.page('/accounts/deactivated')}\n",
        )


def _told(user: User) -> list[User]:
    """Who hears of an idle deactivation besides the person: their agency's security officer;
    for the lead agency's staff, its HMIS admins."""
    if user.is_lead:
        query = select(User).where(User.role == "ssf_admin", User.active.is_(True))
        return [p for p in db.session.scalars(query) if p.id != user.id]
    holder = security_officers.current(user.agency)
    return [holder.user] if holder and holder.user.id != user.id else []


# -- the lead agency reactivates -------------------------------------------------------------


def deactivated(viewer: User, *, page: int = 1):
    """Deactivated accounts, most recent first, for the lead agency's HMIS admins."""
    require_role(viewer, "ssf_admin", message="Only a lead agency HMIS admin sees this list.")
    query = (
        select(User)
        .where(User.active.is_(False), User.deactivated_at.is_not(None))
        .order_by(User.deactivated_at.desc(), User.id.desc())
    )
    return db.paginate(query, page=max(page, 1), per_page=25, error_out=False)


def refusal_to_reactivate(user: User) -> str | None:
    if user.active:
        return f"{user.name}'s account is active."
    if is_separated(user):
        return (
            f"{user.name} was reported separated from their agency; a separated person needs a "
            "new HMIS access request."
        )
    return None


def reactivate(admin: User, user_id: int, *, reason: str, request: RequestInfo) -> User:
    """Reactivates an account, saying why; its idle clock starts afresh now."""
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin can reactivate.")
    with unit_of_work():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound()
        refusal = refusal_to_reactivate(user)
        if refusal:
            raise ServiceError(refusal)
        why = clean_text(reason, "Reason", max_len=2000, multiline=True)
        now = clock.now()
        before = {"active": False, "reason": user.deactivated_reason}
        user.active, user.deactivated_at, user.deactivated_reason = True, None, ""
        audit.record(
            admin,
            REACTIVATE_ACTION,
            user,
            f"Reactivated {user.name}'s account: {why}",
            agency_id=user.agency_id,
            before=before,
            after={"active": True},
            request=request,
            at=now,
        )
        outbox.queue(
            user.email,
            "Your HMIS portal account is active again",
            f"Hello {user.name},\n\n{lead_agency_name()} reactivated your HMIS portal account. "
            f"Sign in within {idle_days()} days to keep it active.\n\n{links.page('/login')}\n",
        )
    return user

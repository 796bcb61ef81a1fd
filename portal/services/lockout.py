"""Locking an account after repeated failed sign-in attempts (IV.B.5).

LOGIN_MAX_FAILURES wrong passwords or two-factor codes in a row lock the account for
LOGIN_LOCKOUT_MINUTES; during the lock even the right password is refused. A success resets
the count. The person gets an e-mail when their account locks.

An e-mail address with no account "locks" the same way, so the answers never tell an
attacker which addresses have accounts. Those counts have no row to live in: they are kept
in the throttle's storage (Redis when REDIS_URL is set), keyed by the address's hash.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app

from portal import clock
from portal.models import User
from portal.notify import outbox
from portal.services import audit, counters, links
from portal.services.access import RequestInfo
from portal.services.lead import lead_agency_name
from portal.services.timefmt import local_datetime

# How long an unknown address's failures are remembered when it never reaches a lock.
_GHOST_MEMORY = timedelta(days=1)


def _max_failures() -> int:
    return max(1, int(current_app.config["LOGIN_MAX_FAILURES"]))


def _lock_period() -> timedelta:
    return timedelta(minutes=int(current_app.config["LOGIN_LOCKOUT_MINUTES"]))


def refusal(until: datetime) -> str:
    """The one message for a locked sign-in, whether or not the address has an account."""
    return (
        f"Too many failed sign-in attempts. Signing in with this e-mail address is locked "
        f"until {local_datetime(until)}. If you forgot your password, use “Forgot your "
        f"password?” to set a new one."
    )


def locked_until(user: User, now: datetime) -> datetime | None:
    """The end of the account's lock, or None. A lock that has run out starts the count
    afresh (in the caller's transaction)."""
    if user.locked_until is None:
        return None
    if user.locked_until > now:
        return user.locked_until
    user.locked_until = None
    user.failed_logins = 0
    return None


def fail(user: User, summary: str, request: RequestInfo) -> datetime | None:
    """Counts a wrong password or code (in the caller's transaction); returns the lock's end
    when this failure locks the account."""
    now = clock.now()
    locked_until(user, now)
    user.failed_logins = (user.failed_logins or 0) + 1
    audit.record(user, "login_failed", user, summary, agency_id=user.agency_id, request=request)
    if user.failed_logins < _max_failures():
        return None
    until = user.locked_until = now + _lock_period()
    audit.record(
        None,
        "login_locked",
        user,
        f"Sign-in locked until {local_datetime(until)} after {user.failed_logins} failed attempts",
        agency_id=user.agency_id,
        request=request,
    )
    outbox.queue(
        user.email,
        "Your HMIS Partner Portal sign-in is locked",
        f"Hello {user.name},\n\nThere were {user.failed_logins} failed attempts to sign in to "
        f"your account, so signing in is locked until {local_datetime(until)}.\n\n"
        f"If this was you and you forgot your password, set a new one here:\n"
        f"{links.page('/password/forgot')}\n\n"
        f"If it was not you, set a new password as well and tell {lead_agency_name()}'s HMIS "
        f"team (the attempts came from the address {request.ip or 'unknown'}).",
    )
    return until


def succeed(user: User) -> None:
    """A complete sign-in: the count starts afresh."""
    user.failed_logins = 0
    user.locked_until = None


def _ghost_keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.encode()).hexdigest()
    return f"portal/ghost-failures/{digest}", f"portal/ghost-lock/{digest}"


def ghost_locked_until(email: str, now: datetime) -> datetime | None:
    """The end of an unknown address's lock, or None."""
    storage = counters.storage()
    if storage is None:
        return None
    _, lock_key = _ghost_keys(email)
    until = storage.get(lock_key)
    if until and until > now.timestamp():
        return datetime.fromtimestamp(until, tz=now.tzinfo)
    return None


def ghost_fail(email: str) -> datetime | None:
    """Counts a failure for an address without an account, as `fail` does for one with."""
    storage = counters.storage()
    if storage is None:
        return None
    count_key, lock_key = _ghost_keys(email)
    if storage.incr(count_key, int(_GHOST_MEMORY.total_seconds())) < _max_failures():
        return None
    storage.clear(count_key)
    now = clock.now()
    until = now + _lock_period()
    # The storage holds counters only: the lock's end is kept as seconds since the epoch.
    storage.clear(lock_key)
    storage.incr(lock_key, int(_lock_period().total_seconds()) + 1, amount=int(until.timestamp()))
    return datetime.fromtimestamp(int(until.timestamp()), tz=now.tzinfo)

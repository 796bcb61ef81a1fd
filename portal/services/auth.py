"""Signing in and out, invitations to set a password, and the rules for a new password.

Signing in is one or two steps: the password, then (when the person has two-factor sign-in)
a code from their authenticator app or a recovery code. Wrong passwords and wrong codes
count towards the lockout (portal/services/lockout.py). The person is signed in only when
every step has passed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from sqlalchemy import func, select

from portal import clock, sessions
from portal.extensions import db
from portal.models import Invitation, User
from portal.notify import outbox
from portal.services import (
    account_standing,
    audit,
    identities,
    links,
    lockout,
    standing,
    two_factor,
)
from portal.services.access import RequestInfo
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from portal.services.passwords import check_password, hash_password, password_problem
from portal.services.timefmt import local_datetime
from portal.services.unit import unit_of_work

WRONG = "The e-mail or password is not correct."
KINDS = {"invitation", "reset"}

# Hashing a throwaway password when the e-mail is unknown keeps timing alike for both cases.
_DUMMY_HASH: str | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class SignIn:
    """A password that was right: the person is signed in at once, or once a second factor
    is right too."""

    user: User
    needs_code: bool


def authenticate(email: str, password: str, request: RequestInfo) -> SignIn:
    """Checks the password. Raises ServiceError with the same words for an unknown address
    as for a wrong password, and for a locked account whether or not it exists."""
    address = normalize_email(email or "")
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None or not user.password_hash:
        _spend_a_hash(password)
        until = lockout.ghost_locked_until(address, clock.now()) or lockout.ghost_fail(address)
        raise ServiceError(lockout.refusal(until) if until else WRONG)
    with unit_of_work():
        problem = _check_password_step(user, password, request)
    if problem:
        raise ServiceError(problem)
    refusal = refusal_to_sign_in(user)
    if refusal:
        raise ServiceError(refusal)
    if two_factor.is_enabled(user):
        return SignIn(user, needs_code=True)
    with unit_of_work():
        _signed_in(user, "Logged in", request)
    return SignIn(user, needs_code=False)


def _check_password_step(user: User, password: str, request: RequestInfo) -> str | None:
    """Why the password step fails (a lock or a wrong password), or None. Counts the failure
    in the caller's transaction, which is committed either way."""
    until = lockout.locked_until(user, clock.now())
    if until is not None:
        _spend_a_hash(password)
        return lockout.refusal(until)
    if check_password(user.password_hash, password):
        return None
    until = lockout.fail(user, "Failed login", request)
    return lockout.refusal(until) if until else WRONG


def refusal_to_sign_in(user: User) -> str | None:
    """Why this person may not sign in even with the right password, or None."""
    if not user.active:
        return account_standing.refusal_to_sign_in(user)
    if standing.active_for_user(user) is not None:
        return (
            f"Access is suspended pending an investigation by {lead_agency_name()}. "
            f"Contact {lead_agency_name()}'s HMIS team."
        )
    return None


def verify_second_factor(user_id: int, code: str, request: RequestInfo) -> User:
    """The second step: a code from the authenticator app or a recovery code. A wrong one
    counts towards the lockout, like a wrong password."""
    user = db.session.get(User, user_id)
    if user is None or not two_factor.is_enabled(user):
        raise ServiceError("Sign in again.")
    with unit_of_work():
        until = lockout.locked_until(user, clock.now())
        if until is not None:
            problem: str | None = lockout.refusal(until)
        elif two_factor.check_sign_in_code(user, code, request):
            problem = None
        else:
            until = lockout.fail(user, "Wrong two-factor code", request)
            problem = lockout.refusal(until) if until else "That code is not correct."
    if problem:
        raise ServiceError(problem)
    refusal = refusal_to_sign_in(user)
    if refusal:
        raise ServiceError(refusal)
    with unit_of_work():
        _signed_in(user, "Logged in with two-factor sign-in", request)
    return user


def _signed_in(user: User, summary: str, request: RequestInfo) -> None:
    lockout.succeed(user)
    user.last_login_at = clock.now()
    audit.record(user, "login", user, summary, agency_id=user.agency_id, request=request)


def _spend_a_hash(password: str) -> None:
    global _DUMMY_HASH
    _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
    check_password(_DUMMY_HASH, password or "x")


def log_out(user: User, request: RequestInfo) -> None:
    """Ends every session of the person, on every device (the issue's "logout ends all of
    that person's sessions"); the browser's own ends with its emptied cookie."""
    with unit_of_work():
        sessions.end_for_user(user.id, "logout")
        audit.record(user, "logout", user, "Logged out", agency_id=user.agency_id, request=request)


def new_password_problem(user: User, password: str, confirm: str) -> str | None:
    """Why this new password will not do for this person, or None: the rules of
    portal/services/passwords.py with the person's own details, then the repeat."""
    agency = user.agency.legal_name if user.agency is not None else ""
    problem = password_problem(password, user.email, user.name, agency, lead_agency_name())
    if problem:
        return problem
    if password != confirm:
        return "The two passwords do not match."
    return None


def set_password(user: User, password: str) -> None:
    """Stores a new password (in the caller's transaction); its age counts from now."""
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()


def password_expired(user: User) -> bool:
    """Whether the password is older than PASSWORD_MAX_AGE_DAYS (0: passwords never age).
    A password from before its date was recorded counts from the account's creation."""
    days = int(current_app.config.get("PASSWORD_MAX_AGE_DAYS") or 0)
    since = user.password_changed_at or user.created_at
    if days <= 0 or not user.password_hash or since is None:
        return False
    return clock.now() - since > timedelta(days=days)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    user: User,
    *,
    purpose: str,
    next_path: str = "",
    expires_at: datetime | None = None,
    path: str = "/invitation",
    kind: str = "invitation",
) -> str:
    """Adds an invitation (`kind` "invitation", or "reset" for a forgotten password) and its
    e-mail to the current transaction; returns the token. `purpose` is the e-mail's opening.

    A new invitation ends the person's older ones: only the newest link works.
    """
    assert kind in KINDS
    token = secrets.token_urlsafe(32)
    now = clock.now()
    if expires_at is None:
        expires_at = now + timedelta(hours=current_app.config["INVITATION_HOURS"])
    older = select(Invitation).where(
        Invitation.user_id == user.id, Invitation.used_at.is_(None), Invitation.expires_at > now
    )
    for invitation in db.session.scalars(older):
        invitation.expires_at = now
    db.session.add(
        Invitation(
            user=user,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=expires_at,
            purpose=kind,
        )
    )
    link = links.page(f"{path}/{token}") + (f"?next={quote(next_path)}" if next_path else "")
    subject = (
        "Set a new HMIS Partner Portal password"
        if kind == "reset"
        else "Set your HMIS Partner Portal password"
    )
    outbox.queue(
        user.email,
        subject,
        f"Hello {user.name},\n\n{purpose}\n\nSet your password here (the link works once and "
        f"expires {local_datetime(expires_at)}):\n{link}\n\n"
        "If you did not expect this, ignore this message.",
    )
    return token


def invitation_user(token: str, kind: str = "invitation") -> User:
    inv = open_invitation(token, kind)
    return inv.user


def open_invitation(token: str, kind: str = "invitation") -> Invitation:
    """The unused, unexpired invitation of this kind with this token; ServiceError if none."""
    inv = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token)))
    if inv is None or inv.used_at is not None or (inv.purpose or "invitation") != kind:
        raise ServiceError("This link is not valid or was already used.")
    if inv.expires_at < clock.now():
        # `invite` ends older links by expiring them: say so, rather than "expired".
        newer = select(Invitation.id).where(
            Invitation.user_id == inv.user_id, Invitation.id > inv.id
        )
        if db.session.scalar(newer.limit(1)) is not None:
            raise ServiceError("A newer link was sent since this one: use the newest e-mail.")
        raise ServiceError(
            f"This link has expired. Ask for a new one, or ask {lead_agency_name()}'s HMIS team."
        )
    return inv


def accept_invitation(token: str, password: str, confirm: str, request: RequestInfo) -> User:
    with unit_of_work():
        user = redeem_invitation(token, password, confirm, request)
    return user


def redeem_invitation(token: str, password: str, confirm: str, request: RequestInfo) -> User:
    """Sets the password from an invitation, in the caller's transaction (onboarding fires
    its step in the same one)."""
    inv = open_invitation(token)
    problem = new_password_problem(inv.user, password, confirm)
    if problem:
        raise ServiceError(problem)
    inv.used_at = clock.now()
    user = inv.user
    set_password(user, password)
    # A password set without the old one cannot open keys sealed under the old one.
    identities.retire_all(user, "password_reset", at=inv.used_at)
    audit.record(
        user,
        "password_set",
        user,
        "Set a password from an invitation",
        agency_id=user.agency_id,
        request=request,
    )
    return user


def email_taken(email: str) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).select_from(User).where(User.email == normalize_email(email))
        )
    )

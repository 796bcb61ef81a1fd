"""Logging in, invitations to set a password, and consent to do business electronically."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Invitation, User
from portal.notify import outbox
from portal.services import audit, links, standing
from portal.services.access import RequestInfo
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from portal.services.passwords import check_password, hash_password, password_problem
from portal.services.timefmt import local_datetime

# Hashing a throwaway password when the e-mail is unknown keeps timing alike for both cases.
_DUMMY_HASH: str | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str, request: RequestInfo) -> User:
    global _DUMMY_HASH
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.password_hash:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
        check_password(_DUMMY_HASH, password)
        raise ServiceError("The e-mail or password is not correct.")
    if not check_password(user.password_hash, password):
        audit.record(
            user, "login_failed", user, "Failed login", agency_id=user.agency_id, request=request
        )
        db.session.commit()
        raise ServiceError("The e-mail or password is not correct.")
    if not user.active:
        raise ServiceError(f"This account is not active. Contact {lead_agency_name()}'s HMIS team.")
    if standing.active_for_user(user) is not None:
        raise ServiceError(
            f"Access is suspended pending an investigation by {lead_agency_name()}. "
            f"Contact {lead_agency_name()}'s HMIS team."
        )
    user.last_login_at = clock.now()
    audit.record(user, "login", user, "Logged in", agency_id=user.agency_id, request=request)
    db.session.commit()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    user: User,
    *,
    purpose: str,
    next_path: str = "",
    expires_at: datetime | None = None,
    path: str = "/invitation",
) -> str:
    """Adds an invitation and its e-mail to the current transaction; returns the token.

    A new invitation ends the person's older ones: only the newest link works.
    """
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
        Invitation(user=user, token_hash=_token_hash(token), created_at=now, expires_at=expires_at)
    )
    link = links.page(f"{path}/{token}") + (f"?next={quote(next_path)}" if next_path else "")
    outbox.queue(
        user.email,
        "Set your HMIS Partner Portal password",
        f"Hello {user.name},\n\n{purpose}\n\nSet your password here (the link works once and "
        f"expires {local_datetime(expires_at)}):\n{link}\n\n"
        "If you did not expect this, ignore this message.",
    )
    return token


def invitation_user(token: str) -> User:
    inv = _open_invitation(token)
    return inv.user


def _open_invitation(token: str) -> Invitation:
    inv = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token)))
    if inv is None or inv.used_at is not None:
        raise ServiceError("This invitation link is not valid or was already used.")
    if inv.expires_at < clock.now():
        raise ServiceError(
            f"This invitation link has expired. Ask {lead_agency_name()}'s HMIS team for a new one."
        )
    return inv


def accept_invitation(token: str, password: str, confirm: str, request: RequestInfo) -> User:
    user = redeem_invitation(token, password, confirm, request)
    db.session.commit()
    return user


def redeem_invitation(token: str, password: str, confirm: str, request: RequestInfo) -> User:
    """Sets the password from an invitation, in the caller's transaction (onboarding fires
    its step in the same one)."""
    inv = _open_invitation(token)
    problem = password_problem(password)
    if problem:
        raise ServiceError(problem)
    if password != confirm:
        raise ServiceError("The two passwords do not match.")
    now = clock.now()
    inv.used_at = now
    user = inv.user
    user.password_hash = hash_password(password)
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

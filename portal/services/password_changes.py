"""Changing a password, and "forgot password" by e-mail.

Every new password meets the same rules (auth.new_password_problem). A change ends the
person's other sessions; a reset ends all of them, and lifts a lockout (the lockout e-mail
points here). A person's signing keys are sealed under their password: a change seals them
again under the new one; a reset cannot open them, so it retires them (and revokes their
certificates), and the next signature brings a new key and certificate.
A reset link works once, for RESET_HOURS, and only the newest one works.
Asking for one gives the same answer whether or not the address has an account.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal import clock, sessions
from portal.extensions import db
from portal.models import User
from portal.services import audit, auth, identities, lockout
from portal.services.access import RequestInfo
from portal.services.errors import ServiceError
from portal.services.passwords import check_password
from portal.services.unit import unit_of_work

RESET_PATH = "/password/reset"
REQUESTED = (
    "If an account uses that address, we have e-mailed it a link to set a new password. "
    "The link works once and expires in {hours} hours."
)


def change(
    user: User,
    current: str,
    password: str,
    confirm: str,
    *,
    keep_session: str | None,
    request: RequestInfo,
) -> User:
    """The signed-in person sets a new password; their other sessions end (`keep_session`,
    the id of the session they are using, stays)."""
    with unit_of_work():
        person = db.session.get(User, user.id)
        if person is None or not check_password(person.password_hash, current):
            raise ServiceError("Your current password is not correct.")
        if password == current:
            raise ServiceError("Choose a password different from your current one.")
        problem = auth.new_password_problem(person, password, confirm)
        if problem:
            raise ServiceError(problem)
        auth.set_password(person, password)
        identities.reseal_all(person, current, password, at=clock.now())
        ended = sessions.end_for_user(person.id, "password changed", keep=keep_session)
        audit.record(
            person,
            "password_changed",
            person,
            f"Changed their password; {ended} other session(s) ended",
            agency_id=person.agency_id,
            request=request,
        )
    return person


def request_reset(email: str, request: RequestInfo) -> str:
    """E-mails a reset link when the address has an active account with a password; returns
    the same words either way."""
    hours = int(current_app.config["RESET_HOURS"])
    address = auth.normalize_email(email or "")
    with unit_of_work():
        user = db.session.scalar(select(User).where(User.email == address))
        if user is not None and user.active and user.password_hash:
            auth.invite(
                user,
                purpose="Someone (we hope you) asked to set a new password for your account. "
                "Any older link stops working.",
                expires_at=clock.now() + timedelta(hours=hours),
                path=RESET_PATH,
                kind="reset",
            )
            audit.record(
                None,
                "password_reset_requested",
                user,
                "A password reset link was e-mailed",
                agency_id=user.agency_id,
                request=request,
            )
    return REQUESTED.format(hours=hours)


def reset_user(token: str) -> User:
    return auth.invitation_user(token, "reset")


def reset(token: str, password: str, confirm: str, request: RequestInfo) -> User:
    """Sets the password from a reset link: every session of the person ends, and a lockout
    is lifted."""
    with unit_of_work():
        inv = auth.open_invitation(token, "reset")
        user = inv.user
        problem = auth.new_password_problem(user, password, confirm)
        if problem:
            raise ServiceError(problem)
        inv.used_at = clock.now()
        auth.set_password(user, password)
        identities.retire_all(user, "password_reset", at=inv.used_at)
        lockout.succeed(user)
        ended = sessions.end_for_user(user.id, "password reset")
        audit.record(
            user,
            "password_reset",
            user,
            f"Set a new password from a reset link; {ended} session(s) ended",
            agency_id=user.agency_id,
            request=request,
        )
    return user

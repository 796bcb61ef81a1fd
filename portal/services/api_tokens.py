"""Personal API tokens: made by their owner, shown once, kept only as a SHA-256, revocable.

A token acts as its owner through the same services as the pages, so it can never do more
than its owner may; a "read" token cannot change anything even where its owner could.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.models.integrations import ApiToken
from portal.services import audit, standing
from portal.services.access import RequestInfo
from portal.services.errors import NotFound, ServiceError
from portal.services.timefmt import lead_tz, local_date
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text, max_length

# Every token starts so: a secret scanner (or a person) can tell one in a leaked file.
MARK = "hpp_"
SCOPES: dict[str, str] = {"read": "Read only", "write": "Read and write"}
NAME_LEN = max_length(ApiToken.__table__.c.name)
PREFIX_LEN = len(MARK) + 6  # what lists show: enough to tell tokens apart, too little to use
# last_used_at is written at most this often: a busy integration must not write every call.
TOUCH_EVERY = timedelta(minutes=1)
LONGEST = timedelta(days=366 * 2)  # no expiry further than this (a token without one may be)


@dataclass(frozen=True)
class Issued:
    """A new token, and its secret: shown once, in this answer, and never again."""

    token: ApiToken
    secret: str


class Refused(Exception):
    """A bearer token the API does not accept; the message says why (never which tokens
    exist)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def state(token: ApiToken, now: datetime | None = None) -> str:
    """ "revoked", "expired" or "active"."""
    now = now or clock.now()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def create(
    owner: User,
    *,
    name: str,
    scope: str,
    expires_on: date | None = None,
    request: RequestInfo,
) -> Issued:
    """A new token for `owner`, expiring at the end of `expires_on` (the lead agency's day)
    if given."""
    if not owner.is_authenticated or not owner.active:
        raise ServiceError("Sign in to make an API token.")
    if scope not in SCOPES:
        raise ServiceError("Choose what the token may do: read, or read and write.")
    now = clock.now()
    expires_at = None
    if expires_on is not None:
        if expires_on <= local_date(now):
            raise ServiceError("The expiry date must be after today.")
        expires_at = datetime.combine(expires_on + timedelta(days=1), time(), tzinfo=lead_tz())
        if expires_at - now > LONGEST:
            raise ServiceError("A token may last at most two years; choose an earlier date.")
    with unit_of_work():
        label = clean_text(name, "Name", max_len=NAME_LEN)
        secret = MARK + secrets.token_urlsafe(32)
        token = ApiToken(
            user_id=owner.id,
            name=label,
            token_sha256=digest(secret),
            prefix=secret[:PREFIX_LEN],
            scope=scope,
            created_at=now,
            expires_at=expires_at,
        )
        db.session.add(token)
        db.session.flush()
        audit.record(
            owner,
            "api_token.create",
            token,
            f"Made API token “{label}” ({SCOPES[scope].lower()}, {token.prefix}…)",
            agency_id=owner.agency_id,
            after={"scope": scope, "expires_at": expires_at.isoformat() if expires_at else None},
            request=request,
            at=now,
        )
    return Issued(token=token, secret=secret)


def list_for(owner: User) -> list[ApiToken]:
    """The owner's tokens, newest first, revoked and expired ones too (for the record)."""
    query = select(ApiToken).where(ApiToken.user_id == owner.id)
    return list(db.session.scalars(query.order_by(ApiToken.id.desc())))


def revoke(owner: User, token_id: int, *, request: RequestInfo) -> ApiToken:
    """Ends the token at once. Only its owner revokes it (another's id is NotFound)."""
    with unit_of_work():
        token = db.session.get(ApiToken, token_id)
        if token is None or token.user_id != owner.id:
            raise NotFound()
        if token.revoked_at is not None:
            return token  # the same form again: nothing new
        now = clock.now()
        token.revoked_at = now
        audit.record(
            owner,
            "api_token.revoke",
            token,
            f"Revoked API token “{token.name}” ({token.prefix}…)",
            agency_id=owner.agency_id,
            request=request,
            at=now,
        )
    return token


def authenticate(secret: str) -> tuple[User, ApiToken]:
    """The owner a bearer token acts as, or Refused. Notes the use (at most once a minute)."""
    if not secret.startswith(MARK) or len(secret) > 200:
        raise Refused("That is not a portal API token.")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest(secret)))
    if token is None:
        raise Refused("That API token is not known.")
    now = clock.now()
    why = state(token, now)
    if why != "active":
        raise Refused(f"That API token is {why}; make a new one on your account page.")
    owner = db.session.get(User, token.user_id)
    # The same rule as a session's (portal/__init__.py, load_user): a deactivated or
    # suspended person's tokens stop working at once, and work again if a hold is lifted.
    if owner is None or not owner.active or standing.active_for_user(owner) is not None:
        raise Refused("The owner of that API token can no longer sign in.")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        # Its own short write, apart from whatever the request then does: the use is noted
        # even if the request fails, and a stale read here only writes once more.
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        db.session.commit()
    return owner, token

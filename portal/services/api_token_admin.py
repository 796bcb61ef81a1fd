"""Everyone's personal API tokens, for the lead agency's HMIS admins: see them, and revoke one
(a lost laptop, a person who left, a leaked file), with a reason kept in the audit log and an
e-mail to the token's owner.

Only `ssf_admin` may: anyone else is refused before any token is looked up, so an agency's
people learn nothing about other people's tokens. No page shows a token's secret: the portal
never had it after it was shown once (api_tokens.create); lists show its prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.models.integrations import ApiToken
from portal.notify import outbox
from portal.services import audit, keyset, links
from portal.services.access import RequestInfo, require_role
from portal.services.api_tokens import SCOPES, state
from portal.services.errors import NotFound
from portal.services.lead import lead_agency_name
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text

REFUSED = "Only the lead agency's HMIS admins can see and revoke other people's API tokens."
REASON_LEN = 1000


@dataclass(frozen=True)
class Row:
    """One token in the list, with its owner and whether it still works."""

    token: ApiToken
    owner: User
    state: str  # "active", "expired" or "revoked" (api_tokens.state)

    @property
    def live(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class Revoked:
    """What a revocation did: `already` when the token had been revoked before (the same
    form sent again, or another admin first): nothing was recorded or mailed this time."""

    token: ApiToken
    owner: User
    already: bool
    by_id: int  # the admin who revoked it now (or tried to again)

    @property
    def owner_told(self) -> bool:
        """Whether the owner was e-mailed now (not when an admin revoked their own)."""
        return not self.already and self.token.user_id != self.by_id


def check(user: User) -> None:
    """Forbidden unless this person may see and revoke everyone's tokens."""
    require_role(user, "ssf_admin", message=REFUSED)


def tokens(
    admin: User, *, after: int | None = None, before: int | None = None, per_page: int = 25
) -> keyset.Page:
    """Every person's tokens, newest first, a keyset page of Rows (revoked and expired ones
    too, for the record)."""
    check(admin)
    page = keyset.paged(select(ApiToken), ApiToken, after=after, before=before, per_page=per_page)
    ids = {token.user_id for token in page.items}
    owners = {
        person.id: person
        for person in db.session.scalars(
            select(User).where(User.id.in_(ids)).options(joinedload(User.agency))
        )
    }
    now = clock.now()
    rows = [Row(t, owners[t.user_id], state(t, now)) for t in page.items]
    return keyset.Page(rows, page.older, page.newer)


def revoke(admin: User, token_id: int, *, reason: str, request: RequestInfo) -> Revoked:
    """Ends another person's (or one's own) token at once, records why, and tells its owner.
    Sent twice, even at the same moment, it revokes, records and mails once."""
    check(admin)
    why = clean_text(reason, "Reason", max_len=REASON_LEN, multiline=True)
    with unit_of_work():
        token = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
        if token is None:
            raise NotFound()
        owner = db.session.get(User, token.user_id)
        if owner is None:  # a token outlives no one: the foreign key keeps its owner
            raise NotFound()
        now = clock.now()
        # A conditional write, not a read then a write: of two requests at once (a replayed
        # form, two admins), only the one whose UPDATE changed the row records and mails.
        changed = db.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            db.session.refresh(token)
            return Revoked(token, owner, already=True, by_id=admin.id)
        token.revoked_at = now
        audit.record(
            admin,
            "api_token.revoke",
            token,
            f"Revoked {owner.name}'s API token “{token.name}” ({token.prefix}…): {why}",
            agency_id=owner.agency_id,
            before={"revoked_at": None},
            after={"revoked_at": now.isoformat(), "owner_id": owner.id, "reason": why},
            request=request,
            at=now,
        )
        if owner.id != admin.id:
            _tell_owner(owner, token, admin, why)
    return Revoked(token, owner, already=False, by_id=admin.id)


def _tell_owner(owner: User, token: ApiToken, admin: User, why: str) -> None:
    outbox.queue(
        owner.email,
        "Your HMIS portal API token was revoked",
        f"Hello {owner.name},\n\n"
        f"{admin.name} ({lead_agency_name()}'s HMIS team) revoked your API token "
        f"“{token.name}” ({token.prefix}…, {SCOPES.get(token.scope, token.scope).lower()}). "
        "It no longer works: any program using it will be refused.\n\n"
        f"The reason given: {why}\n\n"
        "If you still need API access, make a new token on your account page:\n"
        f"{links.page('/account/api-tokens')}\n",
    )

"""Sessions kept on the server.

The cookie carries only a random id; the session's contents (who is signed in, the CSRF
token, messages) live in the `user_session` row keyed by the id's SHA-256. So a session can
be ended from the server, wherever its cookie is: at logout, when the person's password
changes or their access is suspended, and after an idle or an absolute timeout.

The row is written after the view has run, in a transaction of its own: whatever the view
left uncommitted is rolled back first (as the end of the request would), so the session
never commits a view's work and a view's failure never takes the session with it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import insert, select, update
from werkzeug.datastructures import CallbackDict

from portal import clock
from portal.extensions import db
from portal.models import UserSession

# The last-seen time is written at most this often for a session that did not change,
# so reading pages costs no write each time (the idle timeout is minutes, not seconds).
TOUCH_EVERY = timedelta(seconds=60)


class ServerSession(CallbackDict, SessionMixin):
    """A session's contents, with the id of its row (None until first saved)."""

    def __init__(self, data: dict | None = None, sid: str | None = None) -> None:
        def on_update(session: ServerSession) -> None:
            session.modified = True

        super().__init__(data or {}, on_update)
        self.sid = sid
        self.new = sid is None
        self.modified = False
        self.rotate = False  # a new id at the next save (at sign-in: no session fixation)
        self.last_seen_at: datetime | None = None


def key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def ended_reason(row: UserSession, now: datetime, config: Any) -> str | None:
    """Why a session row no longer holds, or None while it does."""
    if row.ended_at is not None:
        return row.ended_reason or "ended"
    if now - row.last_seen_at > timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        return "idle"
    if now - row.created_at > timedelta(hours=config["SESSION_MAX_HOURS"]):
        return "expired"
    return None


class ServerSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 100:
            return ServerSession()
        # populate_existing: the row as stored now, not as this database session last saw it.
        row = db.session.scalar(
            select(UserSession)
            .where(UserSession.id == key(sid))
            .execution_options(populate_existing=True)
        )
        now = clock.now()
        if row is None:
            return ServerSession()
        why = ended_reason(row, now, app.config)
        if why is not None:
            if row.ended_at is None:
                _write(
                    update(UserSession)
                    .where(UserSession.id == row.id)
                    .values(ended_at=now, ended_reason=why)
                )
            return ServerSession()
        session = ServerSession(dict(row.data or {}), sid=sid)
        session.last_seen_at = row.last_seen_at
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        now = clock.now()
        if session.sid is not None and (not session or session.rotate):
            # Emptied (logout) or rotated (sign-in): the old id never works again.
            _end(key(session.sid), "logout" if not session else "rotated", now)
            if not session:
                response.delete_cookie(name, domain=domain, path=path)
                return
            session.sid = None
        if not session:
            return  # nothing worth a row (a visitor who only read a page)
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
            _write(
                insert(UserSession).values(
                    id=key(session.sid),
                    user_id=_user_id(session),
                    data=dict(session),
                    created_at=now,
                    last_seen_at=now,
                    ip=_client(),
                    user_agent=_agent(),
                )
            )
        elif session.modified:
            _write(
                update(UserSession)
                .where(UserSession.id == key(session.sid))
                .values(data=dict(session), user_id=_user_id(session), last_seen_at=now)
            )
        elif session.last_seen_at is None or now - session.last_seen_at > TOUCH_EVERY:
            _write(
                update(UserSession)
                .where(UserSession.id == key(session.sid))
                .values(last_seen_at=now)
            )
        if session.new or session.modified or self.should_set_cookie(app, session):
            response.set_cookie(
                name,
                session.sid,
                httponly=self.get_cookie_httponly(app),
                secure=self.get_cookie_secure(app),
                samesite=self.get_cookie_samesite(app),
                domain=domain,
                path=path,
                max_age=app.config["SESSION_MAX_HOURS"] * 3600,
            )


def rotate(session: SessionMixin) -> None:
    """Gives the session a new id when it is next saved (call at sign-in)."""
    if isinstance(session, ServerSession):
        session.rotate = True


def end_for_user(user_id: int, reason: str, *, keep: str | None = None) -> int:
    """Ends every open session of the person, in the caller's transaction (so it is kept
    only if the change that ends them is); `keep` spares the session with that cookie id
    (a password changed here ends the others). Returns how many ended."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if keep:
        query = query.where(UserSession.id != key(keep))
    result = db.session.execute(query.values(ended_at=clock.now(), ended_reason=reason[:40]))
    return result.rowcount or 0


def _end(row_id: str, reason: str, now: datetime) -> None:
    _write(
        update(UserSession)
        .where(UserSession.id == row_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    )


def _write(statement) -> None:
    db.session.rollback()
    db.session.execute(statement)
    db.session.commit()


def _user_id(session: SessionMixin) -> int | None:
    raw = str(session.get("_user_id", ""))
    return int(raw) if raw.isdigit() else None


def _client() -> str:
    from flask import request

    return (request.remote_addr or "")[:64]


def _agent() -> str:
    from flask import request

    return request.headers.get("User-Agent", "")[:1000]

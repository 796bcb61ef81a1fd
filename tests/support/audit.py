"""Audit log test helpers: many chained entries inserted at once, and tampering behind the
portal's back (plain SQL on the table, as an intruder with database access would)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, text

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import audit_chain


def bulk_entries(
    count: int, *, start: datetime, actor_label: str = "Portal", action: str = "login"
) -> str:
    """Appends `count` entries to the chain with one bulk INSERT (their hashes computed by
    the portal's own function); returns the new head's hash. Commits."""
    top = audit_chain.head(db.session)
    rows = [
        {
            "at": start + timedelta(seconds=n),
            "actor_id": None,
            "actor_label": actor_label,
            "action": action,
            "object_type": "user",
            "object_id": None,
            "agency_id": None,
            "summary": f"Bulk entry {n}",
            "before": None,
            "after": None,
            "ip": "192.0.2.1",
            "user_agent": "bulk",
        }
        for n in range(count)
    ]
    last = audit_chain.chain(rows, seq=top.entries, prev=top.hash)
    db.session.execute(insert(AuditEvent), rows)
    audit_chain.set_head(db.session, top.entries + count, last)
    db.session.commit()
    return last


def tamper(sql: str, **params: object) -> None:
    """Runs `sql` on its own connection and commits: a change the portal never saw."""
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)
    db.session.expire_all()

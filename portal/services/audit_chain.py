"""The audit log's hash chain: linking each new entry to the one before it, and checking it.

An entry's hash is the SHA-256 of a canonical JSON of its fields (everything but its id,
which the database assigns later) and the hash of the entry before it; the first entry
links to `GENESIS`. Appending takes the chain head's row lock first (an UPDATE of the one
`audit_chain_head` row: a row lock on PostgreSQL, the write lock on SQLite), so concurrent
transactions append one after the other, each to the head the previous one committed. An
entry is linked as its transaction commits, so the lock is held only while it ends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as event_api
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.models.audit import AuditChainHead, AuditEvent

GENESIS = "0" * 64
HEAD_ID = 1
_PENDING = "portal.audit_pending"

# The fields an entry's hash covers, in the canonical JSON's (sorted) keys.
HASHED = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "agency_id",
    "summary",
    "before",
    "after",
    "ip",
    "user_agent",
    "prev_hash",
)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over: its HASHED fields as sorted, compact JSON."""
    data = {name: fields.get(name) for name in HASHED}
    if isinstance(data["at"], datetime):
        data["at"] = _instant(data["at"])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(fields: dict[str, Any]) -> str:
    """The SHA-256 (hex) of an entry given as a mapping of its fields (with prev_hash)."""
    return hashlib.sha256(canonical(fields)).hexdigest()


def fields_of(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED}


def add(event: AuditEvent, session: Session) -> None:
    """Adds `event` to `session`; it joins the chain when that session commits (or when
    `link_pending` is called first), so the head is locked only while the transaction ends,
    never while it renders a PDF or waits on a person's other work."""
    pending = session.info.setdefault(_PENDING, [])
    if not pending and not event_api.contains(session, "before_commit", link_pending):
        event_api.listen(session, "before_commit", link_pending)
    pending.append(event)
    session.add(event)


def link_pending(session: Session) -> None:
    """Links the entries `session` added and has not linked yet, in the order they were
    added; the head's row stays locked until the transaction ends."""
    pending = [e for e in session.info.pop(_PENDING, []) if e in session and e.hash is None]
    if not pending:
        return
    with session.no_autoflush:
        seq, prev = _claim_head(session, len(pending))
        for event in pending:
            event.seq = seq = seq + 1
            event.prev_hash = prev
            event.hash = prev = entry_hash(fields_of(event))
        session.execute(
            update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(hash=prev)
        )


def _claim_head(session: Session, count: int = 0) -> tuple[int, str]:
    """Locks the head (creating it on an empty log), moves its place on by `count`, and
    returns (the place before, the last hash)."""
    bump = update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
    bump = bump.values(seq=AuditChainHead.seq + count)
    bump = bump.execution_options(synchronize_session=False)
    if session.execute(bump).rowcount == 0:
        dialect = session.get_bind().dialect.name
        maker = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)
        values = {"id": HEAD_ID, "seq": 0, "hash": GENESIS}
        if maker is not None:
            session.execute(maker(AuditChainHead).values(values).on_conflict_do_nothing())
        else:
            session.execute(insert(AuditChainHead).values(values))
        session.execute(bump)
    seq, last = session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID)
    ).one()
    return seq - count, last


def chain(rows: Iterable[dict[str, Any]], *, seq: int = 0, prev: str = GENESIS) -> str:
    """Links plain rows (dicts of AuditEvent fields, e.g. for a bulk insert) in order after
    the entry (seq, prev): sets their seq, prev_hash and hash; returns the last hash."""
    for row in rows:
        seq += 1
        row["seq"] = seq
        row["prev_hash"] = prev
        row["hash"] = prev = entry_hash(row)
    return prev


def set_head(session: Session, seq: int, last: str) -> None:
    """Moves the head to (seq, last), after a bulk insert made with `chain`."""
    _claim_head(session, 0)
    session.execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(seq=seq, hash=last)
    )


@dataclass(frozen=True)
class Head:
    entries: int
    hash: str

    def describe(self) -> str:
        return f"entry {self.entries}, SHA-256 {self.hash}"


def head(session: Session, *, including_own: bool = False) -> Head:
    """The chain's head as committed; `including_own` links this transaction's entries
    first (and so locks the head until it ends), for a document that must name them."""
    if including_own:
        link_pending(session)
    row = session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID)
    ).first()
    return Head(row.seq, row.hash) if row else Head(0, GENESIS)


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold, and why."""

    id: int | None
    seq: int
    at: datetime | None
    action: str
    reason: str

    def describe(self) -> str:
        when = _instant(self.at) + "Z" if self.at else "—"
        where = f"entry id {self.id}" if self.id is not None else "the chain head"
        return f"Audit chain broken at {where} (#{self.seq}, {when}, {self.action}): {self.reason}"


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: str
    broken: Break | None = None


def _entries(session: Session, batch: int = 1000) -> Iterator[Any]:
    """Every entry's columns as stored (plain rows, never the session's cached objects), in
    chain order, a batch at a time."""
    columns = [AuditEvent.id, *(getattr(AuditEvent, name) for name in HASHED), AuditEvent.hash]
    last = None
    while True:
        query = select(*columns).order_by(AuditEvent.seq).limit(batch)
        if last is not None:
            query = query.where(AuditEvent.seq > last)
        rows = list(session.execute(query))
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(session: Session) -> Verdict:
    """Walks the whole chain in order; the first entry out of place, linked to anything but
    its predecessor, or whose fields no longer give its hash, is the break."""
    count, prev = 0, GENESIS
    outside = session.execute(
        select(AuditEvent.id, AuditEvent.at, AuditEvent.action)
        .where(AuditEvent.seq.is_(None) | AuditEvent.hash.is_(None))
        .order_by(AuditEvent.id)
        .limit(1)
    ).first()
    if outside is not None:
        why = "it is not linked into the chain"
        return Verdict(0, GENESIS, Break(outside.id, 0, outside.at, outside.action, why))
    for event in _entries(session):
        expected = count + 1
        if event.seq != expected:
            why = f"entry #{expected} is missing (the next one is #{event.seq})"
            return Verdict(count, prev, Break(event.id, event.seq, event.at, event.action, why))
        if event.prev_hash != prev:
            why = "it does not link to the entry before it"
            return Verdict(count, prev, Break(event.id, event.seq, event.at, event.action, why))
        if entry_hash(fields_of(event)) != event.hash:
            why = "its contents were changed after it was written"
            return Verdict(count, prev, Break(event.id, event.seq, event.at, event.action, why))
        count, prev = expected, event.hash
    top = head(session)
    if (top.entries, top.hash) != (count, prev):
        why = f"the head names entry #{top.entries}, but the chain ends at #{count}"
        return Verdict(count, prev, Break(None, top.entries, None, "—", why))
    return Verdict(count, prev)

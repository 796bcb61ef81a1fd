"""Audit entries as a reader sees them: the action in words, the record by its name, the
changes field by field. A page's records are loaded a type at a time (with their agency
and person), so a page costs the same few queries whatever it shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import AuditEvent
from portal.processes import registry
from portal.services.audit_words import Change, action_label, changes, humane
from workflows.engine import Machine


@dataclass(frozen=True)
class Entry:
    id: int
    seq: int
    at: datetime
    who: str
    action: str
    words: str
    record: str
    details: str
    changes: list[Change] = field(default_factory=list)
    ip: str = ""
    hash: str = ""

    @property
    def changes_text(self) -> str:
        return "; ".join(f"{c.field}: {c.before} → {c.after}" for c in self.changes)


def machines() -> dict[str, Machine]:
    return {process.machine.name: process.machine for process in registry()}


def _models() -> dict[str, type]:
    return {
        mapper.class_.__name__.lower(): mapper.class_
        for mapper in db.Model.registry.mappers
        if hasattr(mapper.class_, "id")
    }


def _load(events: Iterable[AuditEvent]) -> dict[tuple[str, int], Any]:
    """The records the events name, one query per record type (and per relationship)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if event.object_id is not None:
            wanted[event.object_type].add(event.object_id)
    models = _models()
    found: dict[tuple[str, int], Any] = {}
    for kind, ids in wanted.items():
        model = models.get(kind)
        if model is None:
            continue
        related = [
            selectinload(getattr(model, name))
            for name in ("agency", "user")
            if name in model.__mapper__.relationships
        ]
        for row in db.session.scalars(select(model).where(model.id.in_(ids)).options(*related)):
            found[(kind, row.id)] = row
    return found


def _name(kind: str, row: Any, machine: Machine | None) -> str:
    """A record by the names a reader knows it by, never by its id."""
    if kind == "user":
        return f"{row.name} <{row.email}>"
    if kind == "agency":
        return row.legal_name
    label = machine.label if machine else humane(kind)
    parts = []
    reference = getattr(row, "reference", None)
    if reference:
        parts.append(str(reference))
    for attr in ("name", "title"):
        value = getattr(row, attr, None)
        if isinstance(value, str) and value:
            parts.append(value)
            break
    person = getattr(row, "user", None)
    if person is not None and hasattr(person, "name"):
        parts.append(person.name)
    agency = getattr(row, "agency", None)
    if agency is not None and hasattr(agency, "legal_name"):
        parts.append(agency.legal_name)
    return f"{label}: {', '.join(parts)}" if parts else label


def describe(events: list[AuditEvent]) -> list[Entry]:
    """The entries of `events` in words, in the same order."""
    by_machine = machines()
    records = _load(events)
    out = []
    for event in events:
        name, _, step = event.action.partition(".")
        machine = by_machine.get(name)
        is_step = machine is not None and any(e.name == step for e in machine.events)
        row = records.get((event.object_type, event.object_id or 0))
        record = _name(event.object_type, row, machine) if row is not None else ""
        details = event.summary
        if is_step:
            # A step's summary is "<label>: <reference or id>[ — reason]": the record and
            # the action already say the first part.
            details = event.summary.partition(" — ")[2]
        out.append(
            Entry(
                id=event.id,
                seq=event.seq,
                at=event.at,
                who=event.actor_label,
                action=event.action,
                words=action_label(event.action, by_machine),
                record=record,
                details=details,
                changes=changes(event.before, event.after, machine),
                ip=event.ip,
                hash=event.hash,
            )
        )
    return out

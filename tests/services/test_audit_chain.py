"""The audit log is a hash chain: each entry carries the hash of the one before it, and any
change behind the portal's back (an edited, deleted or reordered row) breaks it."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import audit, audit_chain, documents
from tests.rendering.pdf_text import flat, needs_pdftotext, page_texts
from tests.services.helpers import REQ, effective
from tests.support.audit import bulk_entries, tamper

START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def entries() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def write(n: int, actor=None) -> None:
    for i in range(n):
        audit.record(actor, "login", actor, f"Entry {i}", agency_id=None, request=REQ, at=START)
    db.session.commit()


def test_each_entry_links_to_the_one_before(app, cast):
    write(3, cast.admin)
    rows = entries()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == audit_chain.GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash
    for row in rows:
        assert row.hash == audit_chain.entry_hash(audit_chain.fields_of(row))
    verdict = audit_chain.verify(db.session)
    assert verdict.broken is None
    assert (verdict.entries, verdict.head) == (len(rows), rows[-1].hash)
    assert audit_chain.head(db.session) == audit_chain.Head(len(rows), rows[-1].hash)


def test_a_rolled_back_entry_leaves_no_gap(app, cast):
    write(1, cast.admin)
    audit.record(cast.admin, "login", cast.admin, "never", agency_id=None, request=REQ)
    db.session.rollback()
    write(1, cast.admin)
    assert audit_chain.verify(db.session).broken is None


def test_an_edited_summary_names_the_entry(app, cast):
    write(4, cast.admin)
    third = entries()[-2]
    tamper("UPDATE audit_event SET summary = 'nothing happened' WHERE id = :id", id=third.id)
    broken = audit_chain.verify(db.session).broken
    assert broken is not None and broken.id == third.id
    assert "changed" in broken.describe() and f"entry id {third.id}" in broken.describe()


def test_a_deleted_entry_is_missed(app, cast):
    write(4, cast.admin)
    rows = entries()
    tamper("DELETE FROM audit_event WHERE id = :id", id=rows[-3].id)
    broken = audit_chain.verify(db.session).broken
    assert broken is not None and broken.id == rows[-2].id
    assert "missing" in broken.reason


def test_deleting_the_last_entry_is_missed_by_the_head(app, cast):
    write(2, cast.admin)
    tamper("DELETE FROM audit_event WHERE id = :id", id=entries()[-1].id)
    broken = audit_chain.verify(db.session).broken
    assert broken is not None and broken.id is None and "head" in broken.describe()


def test_reordered_entries_break_the_chain(app, cast):
    write(4, cast.admin)
    (a, a_seq), (b, b_seq) = [(row.id, row.seq) for row in entries()[-3:-1]]
    tamper("UPDATE audit_event SET seq = -1 WHERE id = :id", id=a)
    tamper("UPDATE audit_event SET seq = :s WHERE id = :id", s=a_seq, id=b)
    tamper("UPDATE audit_event SET seq = :s WHERE id = :id", s=b_seq, id=a)
    broken = audit_chain.verify(db.session).broken
    assert broken is not None and broken.id == b


def test_bulk_entries_chain_like_recorded_ones(app, cast):
    write(1, cast.admin)
    first = audit_chain.head(db.session).entries
    bulk_entries(50, start=START)
    write(1, cast.admin)
    verdict = audit_chain.verify(db.session)
    assert verdict.broken is None and verdict.entries == first + 51


def test_concurrent_appends_stay_one_chain(app, cast):
    """Two connections write entries at once and commit together, ten times over; each
    entry links to the one committed just before it, never two to the same one."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers itself; the race needs PostgreSQL")
    write(1)
    first = audit_chain.head(db.session).entries
    engine = db.engine
    barrier = threading.Barrier(2, timeout=20)
    errors: list[BaseException] = []

    def append(label: str) -> None:
        try:
            with app.app_context(), Session(engine) as session:
                for n in range(10):
                    audit.record(
                        None, "login", None, f"{label} {n}", agency_id=None, session=session
                    )
                    session.flush()  # both rows are in, neither linked yet
                    barrier.wait()
                    session.commit()  # both claim the head at once
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(x,)) for x in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    db.session.expire_all()
    rows = entries()
    prevs = [r.prev_hash for r in rows]
    assert len(set(prevs)) == len(prevs)  # no two entries share a predecessor
    verdict = audit_chain.verify(db.session)
    assert verdict.broken is None and verdict.entries == first + 20


@needs_pdftotext
def test_the_certificate_of_completion_prints_the_head_it_was_made_at(app, cast):
    agreement = effective(cast)
    text = flat(" ".join(page_texts(documents.read_bytes(agreement.certificate.current))))
    # The hash may wrap inside its cell: pdftotext gives its two lines with a space between.
    found = re.search(r"Audit log head entry (\d+), SHA-256 ([0-9a-f ]{64,67})", text)
    assert found, text
    seq, printed = int(found[1]), found[2].replace(" ", "")[:64]
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.seq == seq)).one()
    assert entry.hash == printed
    # The head when it was made: the countersignature is its last entry.
    assert entry.action == "agreement.lead_countersigns"

"""The load bench's end-of-run checks: each reads the database and counts what must be 0.

Plain SQL on a SQLAlchemy connection, so they run against any copy of the portal's schema
(SQLite or PostgreSQL) and a test can plant one fault and see each check find it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Machine name -> its case table (the process registry's models; fixed names keep the checks
# free of the app).
CASE_TABLES = {
    "agreement": "agreement",
    "default_notice": "default_notice",
    "termination_notice": "termination_notice",
    "suspension": "suspension",
}
# Steps that sign a document and record it with their transition (agreements.send,
# agreement_signatures, default_notices.declare_termination).
SIGNED_STEPS = {
    ("agreement", "send"),
    ("agreement", "agency_signs"),
    ("agreement", "lead_countersigns"),
    ("default_notice", "declare_termination"),
}
# Notices are issued with their creation, so their document hangs on the case, not a step.
NOTICE_TABLES = ("default_notice", "termination_notice")
# The outbox row id in the Message-ID the portal gives each message: "<outbox.17.ab12…@…>"
# (portal.notify.outbox.message_id), or make_msgid's "<…outbox-17@…>" of earlier versions.
MESSAGE_ID = re.compile(r"outbox[.-](\d+)[.@]")


@dataclass
class Findings:
    """What one check found: a count and a few examples to look at."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, example: str) -> None:
        self.count += 1
        if len(self.examples) < 5:
            self.examples.append(example)


def half_done(conn: Connection) -> Findings:
    """Cases left between two states: a case whose state is not its last step's target, a
    step that does not start where the previous one ended, a signed step with no document
    version, a notice without its document."""
    found = Findings()
    steps: dict[tuple[str, int], list[tuple[int, str, str, str]]] = {}
    for row in conn.execute(
        text("SELECT id, case_type, case_id, event, source, target FROM transition ORDER BY id")
    ):
        steps.setdefault((row.case_type, row.case_id), []).append(
            (row.id, row.event, row.source, row.target)
        )
    for (case_type, case_id), chain in steps.items():
        for (_, _, _, before), (tid, event, source, _) in zip(chain, chain[1:], strict=False):
            if source != before:
                found.add(
                    f"{case_type} {case_id}: step {tid} ({event}) from {source}, not {before}"
                )
    for case_type, table in CASE_TABLES.items():
        for row in conn.execute(text(f'SELECT id, state FROM "{table}"')):
            chain = steps.get((case_type, row.id))
            if chain and chain[-1][3] != row.state:
                found.add(f"{case_type} {row.id}: state {row.state}, last step to {chain[-1][3]}")
    versions = {
        row.transition_id
        for row in conn.execute(
            text("SELECT transition_id FROM document_version WHERE transition_id IS NOT NULL")
        )
    }
    for (case_type, case_id), chain in steps.items():
        for tid, event, _, _ in chain:
            if (case_type, event) in SIGNED_STEPS and tid not in versions:
                found.add(f"{case_type} {case_id}: signed step {tid} ({event}) has no document")
    for table in NOTICE_TABLES:
        rows = conn.execute(
            text(
                f'SELECT n.id FROM "{table}" n WHERE NOT EXISTS (SELECT 1 FROM document d '
                "JOIN document_version v ON v.document_id = d.id "
                "WHERE d.case_type = :t AND d.case_id = n.id)"
            ),
            {"t": table},
        )
        for row in rows:
            found.add(f"{table} {row.id}: no document")
    return found


def duplicates(conn: Connection) -> Findings:
    """The same step applied twice: consecutive steps of one case with the same event from
    the same state (a deadline fired twice, a form submitted twice), or one deadline whose
    event was recorded more than once after it was due."""
    found = Findings()
    last: dict[tuple[str, int], tuple[str, str]] = {}
    for row in conn.execute(
        text("SELECT id, case_type, case_id, event, source FROM transition ORDER BY id")
    ):
        case = (row.case_type, row.case_id)
        if row.event != "create" and last.get(case) == (row.event, row.source):
            found.add(f"{row.case_type} {row.case_id}: {row.event} from {row.source} again")
        last[case] = (row.event, row.source)
    shared = conn.execute(
        text(
            "SELECT transition_id, COUNT(*) AS n FROM deadline WHERE transition_id IS NOT NULL "
            "GROUP BY transition_id HAVING COUNT(*) > 1"
        )
    )
    for row in shared:
        found.add(f"step {row.transition_id} claimed by {row.n} deadlines")
    return found


def missing_objects(conn: Connection, read: Callable[[str, str | None], bytes]) -> Findings:
    """Document versions whose object cannot be read back by its key and storage version
    (`read(key, version_id)`, the portal's Storage.get), or reads back other bytes than the
    recorded SHA-256."""
    found = Findings()
    for row in conn.execute(
        text("SELECT id, storage_key, storage_version_id, sha256 FROM document_version ORDER BY id")
    ):
        try:
            data = read(row.storage_key, row.storage_version_id)
        except Exception as exc:  # any failure to read counts: the bytes are not there
            found.add(f"version {row.id}: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        if hashlib.sha256(data).hexdigest() != row.sha256:
            found.add(f"version {row.id}: stored bytes differ from sha256 {row.sha256[:12]}")
    return found


@dataclass
class MailOutcome:
    queued: int
    sent: int
    pending_attempted: int  # still pending, with attempts and the last error recorded
    failed: int  # given up after MAIL_MAX_ATTEMPTS, recorded as failed
    lost: Findings
    waiting: list[str] = field(default_factory=list)  # a few pending rows and why


def outbox_ids(message_ids: Iterable[str]) -> set[int]:
    """Outbox row ids from the Message-ID headers the SMTP server received."""
    return {int(m.group(1)) for mid in message_ids if (m := MESSAGE_ID.search(mid or ""))}


def lost_mail(conn: Connection, received: set[int]) -> MailOutcome:
    """E-mail lost: a row marked sent that the mail server never received, or a row never
    attempted (pending with no attempts). `received`: outbox ids the server got."""
    lost = Findings()
    counts = {"sent": 0, "pending": 0, "failed": 0}
    total = 0
    waiting: list[str] = []
    for row in conn.execute(
        text("SELECT id, status, attempts, to_addr, last_error FROM outbox_message ORDER BY id")
    ):
        total += 1
        if row.status == "sent":
            counts["sent"] += 1
            if row.id not in received:
                lost.add(f"outbox {row.id} to {row.to_addr}: marked sent, never received")
        elif row.status == "pending" and row.attempts == 0:
            lost.add(f"outbox {row.id} to {row.to_addr}: never attempted")
        elif row.status in counts:
            counts[row.status] += 1
            if len(waiting) < 5:
                waiting.append(
                    f"outbox {row.id}: {row.status} after {row.attempts} attempt(s): "
                    f"{row.last_error[:140]}"
                )
        else:
            lost.add(f"outbox {row.id}: unknown status {row.status}")
    return MailOutcome(total, counts["sent"], counts["pending"], counts["failed"], lost, waiting)

"""Several sweepers at once fire each due deadline exactly once, and a sweeper killed in the
middle of a transaction loses nothing: its deadline fires once, on the next sweep.

The sweepers are real: threads with their own app context and session, or separate processes
running this module (see `_sweeper_process` at the bottom) against the test database.
"""

from __future__ import annotations

import os
import select as readable
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Deadline, DefaultNotice, OutboxMessage, Transition
from portal.services import cases, deadlines
from portal.services.unit import unit_of_work
from tests import factories
from tests.services.helpers import REQ
from workflows.default_notice import DEFAULT_NOTICE

ROOT = Path(__file__).resolve().parents[2]
on_postgresql = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="needs PostgreSQL (FOR UPDATE SKIP LOCKED): set TEST_DATABASE_URL, as the "
    "PostgreSQL pass of `make test` does",
)


def due_notices(cast, n: int) -> list[DefaultNotice]:
    """`n` notices of default on an agreement in effect, given twelve days ago, so each cure
    period has ended and its one deadline is due (the reminders were never due later)."""
    agreement = factories.agreement(cast.agency)
    given = clock.now() - timedelta(days=12)
    period = deadlines.compute(given, deadlines.rule("cure_period"))
    with unit_of_work():
        notices = [
            DefaultNotice(
                reference=f"ND-RACE-{i:03d}",
                agreement_id=agreement.id,
                agency_id=agreement.agency_id,
                issuer_side="lead",
                state="cure_period",
                provisions=[["V.E.12", "Separation notice"]],
                description="Separations reported late.",
                cure_required="Report them.",
                given_at=given,
                given_by_id=cast.signatory.id,
                cure_ends_at=period.due_at,
                cure_rule_text=period.text,
            )
            for i in range(n)
        ]
        db.session.add_all(notices)
        db.session.flush()
        for notice in notices:
            cases.record_creation(DEFAULT_NOTICE, notice, cast.signatory, at=given, request=REQ)
    assert db.session.scalar(select(func.count()).select_from(Deadline)) == n
    return notices


def assert_each_lapsed_once(notices: list[DefaultNotice]) -> None:
    db.session.expire_all()
    ids = {n.id for n in notices}
    per_case = db.session.execute(
        select(Transition.case_id, func.count())
        .where(Transition.event == "cure_lapsed")
        .group_by(Transition.case_id)
    ).all()
    assert dict(per_case) == dict.fromkeys(ids, 1)
    rows = db.session.scalars(select(Deadline)).all()
    assert len(rows) == len(ids)
    assert all(r.fired_at and r.cancelled_at is None and r.transition_id for r in rows)
    assert {n.state for n in notices} == {"lapsed"}
    # Each lapse told its four people once: two at SSF, two at the agency.
    mail = db.session.execute(
        select(OutboxMessage.subject, func.count())
        .where(OutboxMessage.subject.like("Cure period lapsed:%"))
        .group_by(OutboxMessage.subject)
    ).all()
    assert dict(mail) == {f"Cure period lapsed: {n.reference}": 4 for n in notices}


@on_postgresql
def test_several_sweepers_at_once_fire_each_deadline_exactly_once(app, cast):
    notices = due_notices(cast, 40)
    sweepers = 4
    start = threading.Barrier(sweepers)
    fired = [0] * sweepers
    errors: list[BaseException] = []

    def sweeper(number: int) -> None:
        with app.app_context():  # its own session and connection
            try:
                start.wait(timeout=30)
                fired[number] = deadlines.sweep()
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweeper, args=(i,)) for i in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(fired) == len(notices), fired
    assert_each_lapsed_once(notices)
    assert deadlines.sweep() == 0


def test_two_sweeper_processes_fire_each_deadline_once(app, cast, tmp_path):
    notices = due_notices(cast, 20)
    go = tmp_path / "go"
    children = [_spawn(app, tmp_path, f"sweeper{i}", "sweep", str(go)) for i in range(2)]
    try:
        for child in children:
            assert _line(child) == "ready", _log(tmp_path)
        go.touch()  # both start together
        fired = [int(_line(child, timeout=120)) for child in children]
        for child in children:
            assert child.wait(timeout=30) == 0, _log(tmp_path)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert sum(fired) == len(notices), fired
    assert_each_lapsed_once(notices)


def test_a_sweeper_killed_mid_transaction_leaves_its_deadline_to_fire_once(app, cast, tmp_path):
    [notice] = due_notices(cast, 1)
    child = _spawn(app, tmp_path, "doomed", "hang", "")
    try:
        # The child claimed the row, recorded the lapse and its mail, and has not committed.
        assert _line(child, timeout=60).startswith("claimed"), _log(tmp_path)
        if db.engine.dialect.name == "postgresql":
            # Another sweeper meanwhile skips the locked row at once instead of waiting.
            began = time.monotonic()
            assert deadlines.sweep() == 0
            assert time.monotonic() - began < 5
        db.session.expire_all()
        assert notice.state == "cure_period"
        assert deadlines.pending_for("default_notice", notice.id)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    # The dead sweeper's transaction is rolled back by the database; the next sweep fires.
    fired, deadline = 0, time.monotonic() + 20
    while not fired and time.monotonic() < deadline:
        fired = deadlines.sweep()
        if not fired:
            time.sleep(0.1)
    assert fired == 1
    assert deadlines.sweep() == 0
    assert_each_lapsed_once([notice])


# --- the sweeper process ------------------------------------------------------------------


def _spawn(app, tmp_path: Path, name: str, mode: str, go: str) -> subprocess.Popen:
    instance = tmp_path / name
    instance.mkdir()
    stderr = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (the child writes to it)
    command = [
        sys.executable,
        "-m",
        "tests.services.test_sweepers_concurrent",
        mode,
        app.config["SQLALCHEMY_DATABASE_URI"],
        str(instance),
        go,
    ]
    with stderr:
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)


def _line(child: subprocess.Popen, timeout: float = 60) -> str:
    ready, _, _ = readable.select([child.stdout], [], [], timeout)
    assert ready, f"the sweeper process said nothing for {timeout} s"
    return child.stdout.readline().strip()


def _log(tmp_path: Path) -> str:
    return "\n".join(p.read_text()[-3000:] for p in sorted(tmp_path.glob("*.log")))


def _sweeper_process(mode: str, database_url: str, instance: str, go: str) -> None:
    """`sweep`: says ready, waits for the go file, sweeps once, prints how many fired.
    `hang`: sweeps, but the lapse handler stops after doing its work, before the commit."""
    from portal import create_app
    from portal.config import Config

    app = create_app(
        Config(
            instance_path=instance,
            SQLALCHEMY_DATABASE_URI=database_url,
            SECRET_KEY="sweeper",
            PKI_PASSPHRASE="not used by the sweep",
        )
    )
    with app.app_context():
        if mode == "hang":
            registry = app.extensions["portal.processes"]
            declared = registry.get("default_notice")

            def lapse_then_hang(notice, row):
                transition = declared.on_timer(notice, row)
                db.session.flush()  # written inside the claim's transaction, not committed
                print("claimed", row.id, flush=True)
                time.sleep(600)
                return transition

            registry._processes["default_notice"] = replace(declared, on_timer=lapse_then_hang)
            deadlines.sweep()
            return
        print("ready", flush=True)
        while not Path(go).exists():
            time.sleep(0.01)
        print(deadlines.sweep(), flush=True)


if __name__ == "__main__":
    _sweeper_process(*sys.argv[1:5])

"""How long the deadline sweep takes to fire the due deadlines among many pending ones, with
one and with four sweeper processes, on PostgreSQL (when reachable) and on SQLite.

    .venv/bin/python bench/sweep.py [--pending 100000] [--due 1000] [--postgres URL]

Each database is fresh and migrated with the project's own migrations (so the sweep reads
through the real partial index). It holds `--pending` pending deadlines, of which `--due`
are due, plus as many already fired ones as history. Each sweeper is a separate process
running the portal's `deadlines.sweep()` — the code the scheduler runs — with a "bench"
process registered as every process is (its own small case table): the sweep loads each due
deadline's case and its handler records a Transition, in the deadline's own transaction, as a
real handler does. After every run the script checks that
each due deadline fired exactly once, then marks them pending again for the next run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Integer, String, create_engine, func, insert, select, text, update  # noqa: E402
from sqlalchemy.orm import Mapped, mapped_column  # noqa: E402

from portal import clock  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Deadline, Transition  # noqa: E402
from portal.processes import Process, RuleSetting  # noqa: E402
from portal.services import deadlines  # noqa: E402
from workflows.engine import SYSTEM, Event, Machine, State, Timer  # noqa: E402

CASE_TYPE = "bench"
BATCH = 10_000


class BenchCase(db.Model):
    """A case of the bench's own process: the sweep loads it as it loads a real case."""

    __tablename__ = "bench_case"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="waiting")


BENCH_MACHINE = Machine(
    CASE_TYPE,
    "Bench case",
    [State("waiting", "Waiting"), State("done", "Done", terminal=True)],
    [Event("elapse", "Elapse", ("waiting",), "done", roles={SYSTEM}, sides={SYSTEM})],
    [Timer("waiting", "elapse", "bench_period")],
    initial="waiting",
    roles={},
    sides={},
)


def record_transition(case: BenchCase, row: Deadline) -> Transition:
    """What a real handler does at the least: one transition, in the deadline's transaction.
    (The case keeps its state, so the next round can fire the same deadlines again.)"""
    transition = Transition(
        case_type=CASE_TYPE,
        case_id=row.case_id,
        event=row.event,
        source=row.state,
        target="done",
        at=clock.now(),
        actor_role="system",
    )
    db.session.add(transition)
    db.session.flush()
    return transition


def make_app(url: str, instance: str):
    from portal import create_app
    from portal.config import Config

    app = create_app(
        Config(
            instance_path=instance,
            SQLALCHEMY_DATABASE_URI=url,
            SECRET_KEY="bench",
            PKI_PASSPHRASE="not used by the sweep",
        )
    )
    app.extensions["portal.processes"].register(
        Process(
            machine=BENCH_MACHINE,
            model=BenchCase,
            rules={"bench_period": RuleSetting("CURE_PERIOD", "Bench period")},
            on_timer=record_transition,
        )
    )
    return app


def seed(pending: int, due: int) -> None:
    """`pending` pending rows (`due` of them due now), and as many fired ones as history."""
    now = clock.now()
    soon = now + timedelta(minutes=5)

    def row(n: int, due_at: datetime, fired: bool) -> dict:
        return {
            "case_type": CASE_TYPE,
            "case_id": n,
            "state": "waiting",
            "event": "elapse",
            "rule_name": "cure_period",
            "rule_text": "bench",
            "due_at": due_at,
            "created_at": now - timedelta(days=30),
            "fired_at": due_at if fired else None,
            "last_error": "",
        }

    BenchCase.__table__.create(db.engine, checkfirst=True)
    db.session.execute(insert(BenchCase), [{"id": n, "state": "waiting"} for n in range(due)])
    batch: list[dict] = []
    for n in range(2 * pending):
        if n < due:
            batch.append(row(n, now - timedelta(seconds=due - n), False))
        elif n < pending:  # due later: minutes to two months from now
            batch.append(row(n, soon + timedelta(minutes=n % 86_400), False))
        else:  # history: fired in the past two months
            batch.append(row(n, now - timedelta(minutes=n % 86_400 + 10), True))
        if len(batch) == BATCH:
            db.session.execute(insert(Deadline), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(Deadline), batch)
    db.session.commit()
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE deadline"))
        conn.commit()


def explain() -> str:
    """The plan of the sweep's own query for the next due row."""
    query = deadlines.due_query(clock.now())
    compiled = query.compile(dialect=db.engine.dialect)
    sql = str(compiled)
    # Bound as the UTCDateTime column binds it: naive UTC.
    bound = {
        name: value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value
        for name, value in compiled.params.items()
    }
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, bound)
            plan = "\n".join(r[0] for r in rows)
        else:
            params = tuple(bound[name] for name in compiled.positiontup)
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(r[-1] for r in rows)
        conn.rollback()  # EXPLAIN ANALYZE took the row lock: give it back
    return plan


def sweeper(url: str, instance: str, start, results) -> None:
    """One sweeper process: waits for the others, then sweeps until nothing is due."""
    app = make_app(url, instance)
    with app.app_context():
        db.session.execute(select(1))  # connect before the clock starts
        db.session.rollback()
        start.wait()
        began = time.time()
        fired = deadlines.sweep()
        results.put((fired, began, time.time()))
        db.session.remove()


def run(url: str, instance: str, sweepers: int) -> tuple[float, list[int]]:
    """Wall time from the moment all sweepers start until the last one is done."""
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(sweepers), ctx.Queue()
    procs = [
        ctx.Process(target=sweeper, args=(url, instance, start, results)) for _ in range(sweepers)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a sweeper exited with {proc.exitcode}")
    began = min(o[1] for o in outcomes)
    ended = max(o[2] for o in outcomes)
    return ended - began, sorted((o[0] for o in outcomes), reverse=True)


def check_and_reset(due: int) -> None:
    """Every due deadline fired exactly once; then they are made pending again."""
    transitions = db.session.scalar(
        select(func.count()).select_from(Transition).where(Transition.case_type == CASE_TYPE)
    )
    distinct = db.session.scalar(
        select(func.count(func.distinct(Transition.case_id))).where(
            Transition.case_type == CASE_TYPE
        )
    )
    fired_now = db.session.scalar(
        select(func.count()).select_from(Deadline).where(Deadline.transition_id.is_not(None))
    )
    if not transitions == distinct == fired_now == due:
        raise SystemExit(
            f"expected {due} deadlines fired once each; got {transitions} transitions for "
            f"{distinct} cases, {fired_now} rows fired"
        )
    db.session.execute(
        update(Deadline)
        .where(Deadline.transition_id.is_not(None))
        .values(fired_at=None, transition_id=None)
    )
    db.session.execute(Transition.__table__.delete().where(Transition.case_type == CASE_TYPE))
    db.session.commit()


def bench(label: str, url: str, pending: int, due: int) -> None:
    from flask_migrate import upgrade

    with tempfile.TemporaryDirectory() as instance:
        app = make_app(url, instance)
        with app.app_context():
            upgrade()
            began = time.perf_counter()
            seed(pending, due)
            print(
                f"\n== {label}: {pending:,} pending deadlines ({due:,} due) and {pending:,} "
                f"fired, seeded in {time.perf_counter() - began:.1f} s"
            )
            print("The sweep's query for the next due row:")
            print("    " + explain().replace("\n", "\n    "))
            db.session.remove()
            for sweepers in (1, 4):
                seconds, fired = run(url, instance, sweepers)
                check_and_reset(due)
                print(
                    f"{sweepers} sweeper{'s' if sweepers > 1 else ' '}: fired {due:,} in "
                    f"{seconds:.2f} s ({due / seconds:,.0f}/s; per sweeper {fired}); "
                    "each exactly once"
                )
            db.session.remove()
            db.engine.dispose()


def postgres_database(base: str):
    """A fresh database beside `base` (its URL), or None when PostgreSQL is not reachable."""
    admin = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"bench_sweep_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable, or no right to create databases
        print(f"\n== PostgreSQL at {base} not usable ({type(exc).__name__}); skipped")
        admin.dispose()
        return None, None
    return admin, (re.sub(r"/[^/]*$", f"/{name}", base), name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL whose user may create a scratch database",
    )
    args = parser.parse_args()
    if not 0 < args.due <= args.pending:
        parser.error("--due must be between 1 and --pending")
    print(f"Started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU(s).")

    admin, target = postgres_database(args.postgres)
    if admin is not None:
        url, name = target
        try:
            bench("PostgreSQL", url, args.pending, args.due)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    with tempfile.TemporaryDirectory() as scratch:
        bench("SQLite", f"sqlite:///{Path(scratch) / 'bench.db'}", args.pending, args.due)


if __name__ == "__main__":
    main()

"""Pages at statewide scale, measured: every list and case page against `/login`.

Makes a new PostgreSQL database beside --database-url (and drops it after), migrates it,
fills it in bulk with COPY (by default 500 agencies, 20,000 people, 20,000 agreements and
100,000 audit events), serves the portal with gunicorn (2 workers, deploy/gunicorn.conf.py)
and loads each page with 16 concurrent clients, `/login` among them in the same run. Prints
each page's p50, p95 and SQL statements (the portal's X-Query-Count header, on only here:
QUERY_COUNT_HEADER=1), then the worst page's p95 against /login's:

    python bench/pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    ...
    worst: /agencies/{id} p95 3.1x login

Target (issue 9): every page within 5x of /login, with queries that do not grow with the
data. --agencies 50 --people 2000 --agreements 2000 --audit 10000 is a quick small run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

from bench.load_client import Browser, Tally  # noqa: E402
from bench.load_services import Database, Portal  # noqa: E402
from portal.services import audit_chain  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench pages correct horse battery"
HEADER = "X-Query-Count"
# What an agreement's filled text weighs in the real portal (the template with the agency's
# details): about 21 KB a row, which a list must not load.
FILLED_TEXT = ("The Partner Agency agrees to the terms of this Agreement. " * 360)[:21_000]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="PostgreSQL server URL")
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--agreements", type=int, default=20_000)
    parser.add_argument("--audit", type=int, default=100_000, help="audit events")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=20, help="loads of each page per client")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args()
    if args.agencies < 2 or args.people < 4 * args.agencies or args.agreements < args.agencies:
        parser.error("need 2+ agencies, 4+ people and 1+ agreement per agency")
    return args


# -- seeding -------------------------------------------------------------------------------


def _copy(cur: psycopg.Cursor, table: str, columns: list[str], rows) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def _ids(cur: psycopg.Cursor, sql: str) -> list[int]:
    return [row[0] for row in cur.execute(sql)]


def seed(url: str, args: argparse.Namespace, password_hash: str) -> dict[str, object]:
    """Fills the migrated, initialized database in bulk; returns the ids the pages use."""
    now = datetime.now(UTC).replace(microsecond=0)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        lead = cur.execute("SELECT id FROM agency WHERE is_lead").fetchone()[0]
        template = cur.execute(
            "SELECT id FROM agreement_template WHERE kind = 'partner_agency' ORDER BY id DESC"
        ).fetchone()[0]
        staff = [("admin", "ssf_admin"), ("signatory", "ssf_signatory"), ("auditor", "auditor")]
        user_cols = [
            "email",
            "name",
            "title",
            "role",
            "agency_id",
            "password_hash",
            "active",
            "created_at",
            "failed_logins",
            "deactivated_reason",
            "esign_consent_at",
        ]
        _copy(
            cur,
            "user",
            user_cols,
            (
                (
                    f"{who}@ssf.bench",
                    f"Bench {who}",
                    who.title(),
                    role,
                    lead,
                    password_hash,
                    True,
                    now,
                    0,
                    "",
                    now,
                )
                for who, role in staff
            ),
        )
        _copy(
            cur,
            "agency",
            ["legal_name", "address", "is_lead", "vawa_provider", "created_at", "closed_reason"],
            (
                (f"Bench Agency {n:05d}", f"{n} Main Street\nSacramento, CA", False, False, now, "")
                for n in range(1, args.agencies + 1)
            ),
        )
        agencies = _ids(cur, "SELECT id FROM agency WHERE NOT is_lead ORDER BY id")
        per_agency = args.people // len(agencies)
        roles = ["agency_ed", "agency_security_officer"] + ["agency_user"] * (per_agency - 2)

        def people():
            for agency in agencies:
                for i, role in enumerate(roles):
                    yield (
                        f"p{i}@a{agency}.bench",
                        f"Person {i} of {agency}",
                        "Staff",
                        role,
                        agency,
                        password_hash,
                        True,
                        now,
                        0,
                        "",
                        now,
                    )

        _copy(cur, "user", user_cols, people())
        users = {
            (agency, role): uid
            for uid, agency, role in cur.execute(
                'SELECT min(id), agency_id, role FROM "user" GROUP BY agency_id, role'
            )
        }
        admin = users[(lead, "ssf_admin")]
        # Agreements: each agency's last one open (sent for every fifth agency, so it awaits
        # its director; in effect otherwise), the ones before it voided. The busiest agency
        # (the first) gets a larger share, so its page has more than a page of them.
        counts = [args.agreements // len(agencies)] * len(agencies)
        counts[0] += args.agreements - sum(counts)
        agreement_cols = [
            "reference",
            "agency_id",
            "template_id",
            "state",
            "lock_version",
            "created_at",
            "created_by_id",
            "signer_name",
            "signer_title",
            "filled_text",
            "sent_at",
            "agency_signed_at",
            "lead_signed_at",
            "effective_on",
            "closed_reason",
        ]

        def agreements():
            for index, (agency, count) in enumerate(zip(agencies, counts, strict=True)):
                for k in range(count):
                    at = now - timedelta(days=count - k)
                    last = k == count - 1
                    state = ("sent" if index % 5 == 0 else "effective") if last else "voided"
                    signed = at if state == "effective" else None
                    yield (
                        f"PAA-{agency}-{k:04d}",
                        agency,
                        template,
                        state,
                        1,
                        at,
                        admin,
                        "Person 0",
                        "Executive Director",
                        FILLED_TEXT,
                        at,
                        signed,
                        signed,
                        signed.date() if signed else None,
                        "" if last else "Bench",
                    )

        _copy(cur, "agreement", agreement_cols, agreements())
        _copy(
            cur,
            "transition",
            [
                "case_type",
                "case_id",
                "event",
                "source",
                "target",
                "at",
                "actor_id",
                "actor_role",
                "reason",
                "ip",
                "user_agent",
            ],
            (
                ("agreement", aid, "create", "", "draft", at, admin, "ssf_admin", "", "", "")
                for aid, at in cur.execute("SELECT id, created_at FROM agreement").fetchall()
            ),
        )
        open_agreements = cur.execute(
            "SELECT id, agency_id FROM agreement WHERE state = 'effective' ORDER BY id"
        ).fetchall()
        # A notice of default on every tenth agreement in effect.
        _copy(
            cur,
            "default_notice",
            [
                "reference",
                "agreement_id",
                "agency_id",
                "issuer_side",
                "state",
                "lock_version",
                "provisions",
                "description",
                "cure_required",
                "given_at",
                "given_by_id",
                "cure_ends_at",
                "cure_rule_text",
                "closed_reason",
            ],
            (
                (
                    f"NOD-{aid}",
                    aid,
                    agency,
                    "lead",
                    "cure_period",
                    1,
                    json.dumps([["IV.B.3", "Security"]]),
                    "Bench default.",
                    "Cure it.",
                    now,
                    admin,
                    now + timedelta(days=10),
                    "10 calendar days",
                    "",
                )
                for aid, agency in open_agreements[::10]
            ),
        )
        # Two HMIS access requests in progress per agency with an agreement in effect.
        cur.execute(
            "CREATE TEMP TABLE bench_request (reference text, agency_id int, agreement_id int,"
            " email text, name text)"
        )
        _copy(
            cur,
            "bench_request",
            ["reference", "agency_id", "agreement_id", "email", "name"],
            (
                (
                    f"AR-{agency}-{i}",
                    agency,
                    aid,
                    f"p{i}@a{agency}.bench",
                    f"Person {i} of {agency}",
                )
                for aid, agency in open_agreements
                for i in (2, 3)
            ),
        )
        cur.execute(
            "INSERT INTO access_request (reference, agency_id, agreement_id, state, lock_version,"
            " user_id, name, email, job_title, hmis_role, programs, requested_at,"
            " requested_by_id, hmis_user_id, closed_reason)"
            " SELECT r.reference, r.agency_id, r.agreement_id, 'in_progress', 1, u.id, r.name,"
            " r.email, 'Case manager', 'case_manager', '', %s, ed.id, '', ''"
            ' FROM bench_request r JOIN "user" u ON u.email = r.email'
            " JOIN \"user\" ed ON ed.agency_id = r.agency_id AND ed.role = 'agency_ed'",
            (now,),
        )
        actions = [
            "agreement.create",
            "agreement.send",
            "agreement.agency_signs",
            "agreement.lead_countersigns",
            "login",
            "default_notice.give",
        ]
        # After the portal's own first events (its set-up), linked into the same chain as the
        # portal links its own, so `flask audit verify` passes on a bench database too.
        base, head = cur.execute("SELECT seq, hash FROM audit_chain_head WHERE id = 1").fetchone()
        actors = [uid for (_, role), uid in users.items() if role == "agency_ed"]
        columns = [
            "at",
            "actor_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "agency_id",
            "summary",
            "ip",
            "user_agent",
            "seq",
            "prev_hash",
            "hash",
        ]
        rows = [
            {
                "at": now - timedelta(seconds=args.audit - n),
                "actor_id": actors[n % len(actors)],
                "actor_label": "Bench person",
                "action": actions[n % len(actions)],
                "object_type": "agreement",
                "object_id": n,
                "agency_id": agencies[n % len(agencies)],
                "summary": f"Bench event {n}",
                "before": None,
                "after": None,
                "ip": "192.0.2.1",
                "user_agent": "bench",
            }
            for n in range(1, args.audit + 1)
        ]
        last = audit_chain.chain(rows, seq=base, prev=head)
        _copy(cur, "audit_event", columns, ([row[c] for c in columns] for row in rows))
        # The chain's head names the last entry, so the portal's next event follows it.
        cur.execute(
            "UPDATE audit_chain_head SET seq = %s, hash = %s WHERE id = 1",
            (base + args.audit, last),
        )
        cur.execute("ANALYZE")
        conn.commit()
        busiest = agencies[0]
        return {
            "busiest": busiest,
            "agreement": cur.execute(
                "SELECT max(id) FROM agreement WHERE agency_id = %s", (busiest,)
            ).fetchone()[0],
            "notice": cur.execute("SELECT min(id) FROM default_notice").fetchone()[0],
            "ed": f"p0@a{busiest}.bench",
            "user": f"p4@a{busiest}.bench",
        }


# -- load ----------------------------------------------------------------------------------


def pages(ids: dict[str, object]) -> list[tuple[str, str, str]]:
    """(label, who, path): every list and case page, as whom; who "" is nobody signed in."""
    return [
        ("/login", "", "/login"),
        ("home (admin)", "admin", "/"),
        ("home (signatory)", "signatory", "/"),
        ("home (auditor)", "auditor", "/"),
        ("home (agency ED)", "ed", "/"),
        ("home (agency user)", "user", "/"),
        ("/agencies/", "admin", "/agencies/"),
        ("/agencies/{id} (admin)", "admin", f"/agencies/{ids['busiest']}"),
        ("/agencies/{id} (ED)", "ed", f"/agencies/{ids['busiest']}"),
        ("/agreements/", "admin", "/agreements/"),
        ("/agreements/{id}", "admin", f"/agreements/{ids['agreement']}"),
        ("/notices/default/{id}", "admin", f"/notices/default/{ids['notice']}"),
        ("/audit/", "auditor", "/audit/"),
        ("/access-requests/", "admin", "/access-requests/"),
        ("/tracking/", "admin", "/tracking/"),
    ]


def timed(browser: Browser, path: str) -> tuple[float, int | None, int]:
    began = time.perf_counter()
    try:
        with browser.opener.open(browser.base_url + path, timeout=60) as response:
            response.read()
            status, count = response.status, response.headers.get(HEADER)
    except urllib.error.HTTPError as exc:
        status, count = exc.code, None
    return time.perf_counter() - began, int(count) if count else None, status


def load(base_url: str, ids: dict[str, object], args: argparse.Namespace) -> int:
    tally = Tally()
    stop_at = time.monotonic() + 3600
    emails = {
        "admin": "admin@ssf.bench",
        "signatory": "signatory@ssf.bench",
        "auditor": "auditor@ssf.bench",
        "ed": ids["ed"],
        "user": ids["user"],
    }
    # One signed-in browser per person and client (its own cookies, as 16 people would).
    browsers: list[dict[str, Browser]] = []
    for _ in range(args.clients):
        mine = {"": Browser(base_url, tally, stop_at)}
        for who, address in emails.items():
            mine[who] = Browser(base_url, tally, stop_at)
            mine[who].login(address, PASSWORD)
        browsers.append(mine)
    plan = pages(ids)
    # A page that is not there when the bench runs (the tracking view, before it is built)
    # is left out rather than measured as a 404.
    present = []
    for label, who, path in plan:
        _, _, status = timed(browsers[0][who], path)
        if status == 200:
            present.append((label, who, path))
        else:
            print(f"{label}: HTTP {status}, left out", flush=True)
    times: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, set[int]] = defaultdict(set)
    failures: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def client(index: int) -> None:
        mine = browsers[index]
        for n in range(args.rounds):
            # Each client starts at another page, so every page is loaded beside the others.
            for k in range(len(present)):
                label, who, path = present[(index + n + k) % len(present)]
                seconds, count, status = timed(mine[who], path)
                with lock:
                    if status != 200:
                        failures[label] += 1
                        continue
                    times[label].append(seconds)
                    if count is not None:
                        queries[label].add(count)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - began
    print(
        f"\n{sum(map(len, times.values()))} requests in {took:.1f} s, "
        f"{args.clients} clients, {args.workers} gunicorn workers"
    )
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'x login':>8} {'queries':>8}")
    login95 = p95(times["/login"])
    worst = ("/login", 1.0)
    for label, _, _ in present:
        ratio = p95(times[label]) / login95
        counts = sorted(queries[label])
        shown = (
            "-" if not counts else f"{counts[0]}" + (f"-{counts[-1]}" if len(counts) > 1 else "")
        )
        print(
            f"{label:28} {statistics.median(times[label]) * 1000:8.1f} "
            f"{p95(times[label]) * 1000:8.1f} {ratio:8.1f} {shown:>8}"
            + (f"  ({failures[label]} failed)" if failures[label] else "")
        )
        if ratio > worst[1]:
            worst = (label, ratio)
    print(f"worst: {worst[0]} p95 {worst[1]:.1f}x login")
    return 1 if failures else 0


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> int:
    args = arguments()
    print(
        f"Started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU(s): "
        f"{args.agencies} agencies, {args.people} people, {args.agreements} agreements, "
        f"{args.audit} audit events.",
        flush=True,
    )
    database = Database(args.database_url)
    database.create()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pages-") as scratch:
            workdir = Path(scratch)
            # Nothing here signs or mails: no S3 server, no SMTP server; documents on disk.
            stand_in = SimpleNamespace(
                info=SimpleNamespace(endpoint_url=""), access_key="", secret_key="", port=1
            )
            portal = Portal(workdir, database.url, stand_in, stand_in)
            portal.env.update(
                STORAGE_URL=(workdir / "documents").as_uri(),
                QUERY_COUNT_HEADER="1",
                THROTTLE_ENABLED="0",
                PKI_PASSPHRASE=secrets.token_hex(16),
            )
            for key in ("S3_ENDPOINT_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY", "SMTP_HOST"):
                portal.env.pop(key, None)
            portal.flask("db", "upgrade")
            portal.flask("init")
            began = time.monotonic()
            # The portal's own strength (its default PasswordHasher): /login costs what it does
            # in production.
            ids = seed(database.url, args, PasswordHasher().hash(PASSWORD))
            print(f"seeded in {time.monotonic() - began:.1f} s", flush=True)
            portal.start_web(args.workers)
            try:
                return load(portal.base_url, ids, args)
            except Exception:
                log = (workdir / "gunicorn.log").read_text(errors="replace")
                print("gunicorn's log ends:\n" + log[-3000:], file=sys.stderr)
                raise
            finally:
                portal.stop()
    finally:
        database.drop()


if __name__ == "__main__":
    sys.exit(main())

"""The audit log page in words: actions by their labels, records by their names, changes
field by field; searched by name or e-mail; empty and reversed date ranges explained;
keyset pages of bounded queries; a streamed CSV export for auditors and SSF staff."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime

import time_machine
from sqlalchemy import event

from portal.extensions import db
from portal.services import audit_chain, suspensions
from tests.services.helpers import REQ, sent_agreement
from tests.support.audit import bulk_entries

WHEN = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def test_a_machine_step_and_a_sign_in_in_words(client, cast, auth):
    agreement = sent_agreement(cast)
    suspension = suspensions.suspend(
        cast.admin, cast.agency.id, user_id=None, reason="Shared passwords.", request=REQ
    )
    suspensions.lift(cast.admin, suspension.id, reason="Investigation closed.", request=REQ)
    auth.login("audit@ssf.test")
    text = page_of(client, "/audit/")
    assert "Send for signature" in text
    assert f"HMIS Partner Agency Agreement: {agreement.reference}" in text
    assert "State: Draft → Awaiting the executive director's signature" in text
    assert "Lift the suspension" in text
    assert "Suspension of HMIS Access: Hope & Harbor <Shelter>" in text
    assert "Investigation closed." in text
    assert "Signed in" in text  # the auditor's own sign-in
    assert "<code>agreement.send</code>" not in text and '{"state"' not in text


def test_the_action_filter_lists_known_actions_in_words(client, cast, auth):
    sent_agreement(cast)
    auth.login("audit@ssf.test")
    text = page_of(client, "/audit/?action=agreement.send")
    assert '<option value="agreement.send" selected>' in text
    assert '<option value="login"' in text  # known, whether or not it was ever recorded
    assert "Send for signature" in text and "Signed in</td>" not in text


def test_search_by_name_or_email(client, cast, auth):
    sent_agreement(cast)  # by Ada Admin
    auth.login("audit@ssf.test")
    by_name = page_of(client, "/audit/?actor=ada+adm")
    assert "Send for signature" in by_name and "Aud Itor" not in by_name.split("<tbody>")[1]
    by_email = page_of(client, "/audit/?actor=admin@ssf.test")
    assert "Send for signature" in by_email
    nobody = page_of(client, "/audit/?actor=Nobody+Here")
    assert "No entries match." in nobody


@time_machine.travel(WHEN, tick=False)
def test_an_empty_or_reversed_date_range_is_explained(client, cast, auth):
    auth.login("audit@ssf.test")
    empty = page_of(client, "/audit/?since=2025-01-01&until=2025-01-31")
    assert "No entries between January 1, 2025 and January 31, 2025" in empty
    backwards = page_of(client, "/audit/?since=2025-02-01&until=2025-01-01")
    assert "The start date (February 1, 2025) is after the end date (January 1, 2025)" in backwards
    wrong = page_of(client, "/audit/?since=yesterday")
    assert "The start date “yesterday” is not a date" in wrong
    today = page_of(client, "/audit/?since=2026-03-02&until=2026-03-02")
    assert "Signed in" in today


def test_only_ssf_staff_and_auditors_read_or_export_the_log(client, cast, auth):
    auth.login("ed@hope.test")
    assert client.get("/audit/").status_code == 302
    assert client.get("/audit/export.csv").status_code == 302
    auth.logout()
    auth.login("admin@ssf.test")
    assert client.get("/audit/").status_code == 200
    assert client.get("/audit/export.csv").status_code == 200


def count_queries(client, url: str) -> tuple[int, str]:
    seen: list[str] = []

    def on(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on)
    try:
        text = page_of(client, url)
    finally:
        event.remove(db.engine, "before_cursor_execute", on)
    audit_reads = [s.lower() for s in seen if "from audit_event" in s.lower()]
    banned = ["count(", "distinct"]
    if db.engine.dialect.name == "postgresql":
        banned.append("offset")  # SQLite's dialect writes OFFSET 0 after every LIMIT
    assert not [s for s in audit_reads if any(word in s for word in banned)]
    return len(seen), text


def test_keyset_pages_cost_the_same_whatever_the_size(client, cast, auth):
    sent_agreement(cast)
    auth.login("audit@ssf.test")
    small, _ = count_queries(client, "/audit/")
    bulk_entries(3000, start=WHEN, actor_label="Bulk Person <bulk@ssf.test> (Auditor)")
    large, first = count_queries(client, "/audit/")
    assert large <= small + 1  # no query grows with the table
    assert first.count("Bulk entry") == 50 and "Bulk entry 2999" in first
    older = first.split('rel="next" href="')[1].split('"')[0]
    second = page_of(client, older.replace("&amp;", "&"))
    assert "Bulk entry 2949" in second and "Bulk entry 2950" not in second
    assert 'rel="prev"' in second


def test_csv_export_streams_every_filtered_entry(client, cast, auth):
    sent_agreement(cast)
    bulk_entries(4000, start=WHEN)
    auth.login("audit@ssf.test")
    response = client.get("/audit/export.csv?action=login")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["When", "Who", "Action"]
    assert len(body) == 4001  # 4,000 bulk entries and the auditor's sign-in
    assert {row[2] for row in body} == {"Signed in"}
    assert body[0][1].startswith("Aud Itor")
    everything = client.get("/audit/export.csv").get_data(as_text=True)
    assert "Send for signature" in everything
    assert "State: Draft → Awaiting the executive director's signature" in everything
    top = audit_chain.head(db.session)
    assert top.hash in everything  # the newest entry's hash, as `audit verify` prints it

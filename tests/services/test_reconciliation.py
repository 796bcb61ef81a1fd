"""Reconciling with the HMIS vendor's user export: a messy CSV, both kinds of finding, and
clear refusals for files that are not an export."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from portal.models.security import HmisReconciliation
from portal.services import reconciliation, separations
from portal.services.errors import Forbidden, ServiceError
from tests.support.separations import REQ, calendar_for, issued, staff

MESSY = (
    "\ufeff User ID ;E-MAIL;Full  Name;Department;ACTIVE\r\n"
    "HMIS-1;ann@hope.test;Ann Active;Outreach;Yes\r\n"
    "hmis-2;bo@hope.test;Bo Gone;Outreach;yes\r\n"
    "HMIS-3;cy@hope.test;Cy Off;;No\r\n"
    'HMIS-9;stranger@else.test;"<b>Stranger</b>; Esq.";;TRUE\r\n'
    "HMIS-10;EVE.NEW@HOPE.TEST;E\u0301ve\u200b New;;1\r\n"
    "HMIS-6;fay@hope.test;Fay Idle;;active\r\n"
    ";nobody@else.test;No Id;;yes\r\n"
    "HMIS-1;dup@else.test;Dup;;yes\r\n"
    "HMIS-11;maybe@else.test;Maybe;;perhaps\r\n"
    ";;;;\r\n"
)


@pytest.fixture
def people(cast):
    calendar_for(2027)
    ann = staff(cast.agency, "ann@hope.test", name="Ann Active")
    issued(ann, "HMIS-1")
    bo = staff(cast.agency, "bo@hope.test", name="Bo Gone")
    issued(bo, "HMIS-2")
    cy = staff(cast.agency, "cy@hope.test", name="Cy Off")
    issued(cy, "HMIS-3")
    dee = staff(cast.other_agency, "dee@other.test", name="Dee Missing")
    issued(dee, "HMIS-4")
    eve = staff(cast.agency, "eve.new@hope.test", name="Eve New")
    issued(eve, "", state="in_progress")
    fay = staff(cast.agency, "fay@hope.test", name="Fay Idle")
    issued(fay, "HMIS-6")
    fay.active, fay.deactivated_reason = False, "No sign-in for 30 days"
    db.session.commit()
    with time_machine.travel("2027-03-08 18:00:00+00:00", tick=False):
        separations.report(
            cast.ed, cast.agency.id, user_id=bo.id, last_day=date(2027, 3, 5), request=REQ
        )
    return ann


def test_a_messy_export(cast, people):
    data = MESSY.encode("utf-8")
    row = reconciliation.upload(
        cast.admin, filename="C:\\exports\\users.csv", data=data, request=REQ
    )
    assert (row.filename, row.rows) == ("users.csv", 9)
    by = {k: {f["hmis_user_id"]: f for f in items} for k, _, items in reconciliation.grouped(row)}
    assert set(by["hmis_only"]) == {"hmis-2", "HMIS-9", "HMIS-10", "HMIS-6"}
    assert "Separated from" in by["hmis_only"]["hmis-2"]["reason"]
    assert by["hmis_only"]["HMIS-9"]["reason"].startswith("Unknown here")
    assert by["hmis_only"]["HMIS-9"]["name"] == "<b>Stranger</b>; Esq."
    assert "in progress" in by["hmis_only"]["HMIS-10"]["reason"]
    assert by["hmis_only"]["HMIS-10"]["name"] == "\u00c9ve New"  # NFC, no zero-width space
    assert "deactivated" in by["hmis_only"]["HMIS-6"]["reason"]
    assert set(by["portal_only"]) == {"HMIS-3", "HMIS-4"}
    assert "inactive in the HMIS" in by["portal_only"]["HMIS-3"]["reason"]
    assert "not in the HMIS export" in by["portal_only"]["HMIS-4"]["reason"]
    assert by["portal_only"]["HMIS-4"]["agency"] == "Other Agency"
    unreadable = [f["reason"] for f in row.findings if f["kind"] == "unreadable"]
    assert unreadable == [
        "Line 8: no user id.",
        "Line 9: user id HMIS-1 appears twice.",
        "Line 10: status “perhaps” is neither active nor inactive.",
    ]
    db.session.expire_all()
    stored = db.session.get(HmisReconciliation, row.id)
    assert len(stored.sha256) == 64 and stored.findings == row.findings
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "hmis_reconciliation.upload")
    )
    assert reconciliation.history(cast.auditor).total == 1


def test_a_plain_comma_export_with_status_words(cast, people):
    data = b'User ID,Email,Name,Status\nHMIS-1,ann@hope.test,"Active, Ann",Active\n'
    row = reconciliation.upload(cast.admin, filename="x.csv", data=data, request=REQ)
    assert {f["hmis_user_id"] for f in row.findings} == {"HMIS-3", "HMIS-4"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n...", "not a CSV file"),
        (b"PK\x03\x04zip", "not a CSV file"),
        ("User ID,Email,Status\nX,é@x.test,yes\n".encode("latin-1"), "not UTF-8"),
        (b"Email,Status\nx@y.test,yes\n", "lacks the column User ID"),
        (b"Name\nAnn\n", "lacks the columns User ID, Email, Status (or Active)"),
        (b"User ID,Email,Status\n" + b"A,a@x.test,yes\n" * 4, "more than 3 rows"),
        (b'User ID,Email,Status\n"X' + b"y" * 200_000 + b'",a,yes\n', "not readable as CSV"),
    ],
)
def test_refusals(app, cast, data, message, monkeypatch):
    monkeypatch.setitem(app.config, "HMIS_EXPORT_MAX_ROWS", 3)
    with pytest.raises(ServiceError, match=re.escape(message)):
        reconciliation.upload(cast.admin, filename="f.csv", data=data, request=REQ)
    assert db.session.scalar(select(HmisReconciliation)) is None


def test_too_large_and_only_lead_admins(cast):
    with pytest.raises(ServiceError, match="larger than 5 MB"):
        reconciliation.upload(
            cast.admin, filename="f.csv", data=b"a" * (5 * 1024 * 1024 + 1), request=REQ
        )
    with pytest.raises(Forbidden):
        reconciliation.upload(cast.ed, filename="f.csv", data=b"User ID", request=REQ)
    with pytest.raises(Forbidden):
        reconciliation.history(cast.ed)


def test_nothing_is_kept_when_the_audit_fails(cast, people, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(reconciliation.audit, "record", broken)
    with pytest.raises(RuntimeError):
        reconciliation.upload(cast.admin, filename="x.csv", data=MESSY.encode(), request=REQ)
    assert db.session.scalar(select(HmisReconciliation)) is None

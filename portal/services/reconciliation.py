"""Reconciling with the HMIS (IV.B.5, V.E.12): the lead agency uploads the HMIS vendor's
user export, and the portal lists what does not match.

The export is a CSV file, UTF-8 (with or without a byte-order mark), comma, semicolon or
tab separated, whose first line names the columns, in any case and order:
  User ID            the HMIS user id (required)
  Email              the person's e-mail (required; may be blank on a row)
  Status or Active   "active", "yes", "true", "1", "enabled" for an active account;
                     "inactive", "no", "false", "0", "disabled", "deactivated",
                     "locked", "terminated" for one that is not (required)
  Name               optional, shown in the findings
Other columns are ignored.

Two kinds of findings: an account active in the HMIS without current issued access here
(why, for each), and issued access here without an active account in the HMIS. Rows the
portal cannot read are findings too, with their line number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import or_, select

from portal import clock
from portal.extensions import db
from portal.models import AccessRequest, User
from portal.models.security import HmisReconciliation, Separation
from portal.services import audit, standing
from portal.services.access import RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.timefmt import long_date
from portal.services.unit import unit_of_work

MAX_BYTES = 5 * 1024 * 1024
HMIS_ONLY = "hmis_only"
PORTAL_ONLY = "portal_only"
UNREADABLE = "unreadable"
KINDS = {
    HMIS_ONLY: "Active in the HMIS, without current issued access here",
    PORTAL_ONLY: "Issued access here, without an active account in the HMIS",
    UNREADABLE: "Rows the portal could not read",
}
COLUMNS = {
    "user_id": ("userid", "hmisuserid", "id"),
    "email": ("email", "emailaddress"),
    "status": ("status", "active", "accountstatus", "enabled"),
    "name": ("name", "fullname", "username"),
}
ACTIVE = {"active", "yes", "y", "true", "1", "enabled"}
INACTIVE = {"inactive", "no", "n", "false", "0", "disabled", "deactivated", "locked", "terminated"}


@dataclass(frozen=True)
class ExportRow:
    line: int
    user_id: str
    email: str
    name: str
    active: bool


def _cell(value: str | None, limit: int = 200) -> str:
    text = unicodedata.normalize("NFC", value or "")
    text = "".join(c for c in text if unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co"})
    return " ".join(text.split())[:limit]


def _header_key(value: str) -> str:
    return "".join(ch for ch in _cell(value).casefold() if ch.isalnum())


def parse(data: bytes) -> tuple[list[ExportRow], list[dict]]:
    """The export's rows, and the rows it could not read as findings; ServiceError when the
    file as a whole is not an export."""
    if not data.strip():
        raise ServiceError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ServiceError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if b"\x00" in data[:8192] or data[:5] == b"%PDF-" or data[:2] == b"PK":
        raise ServiceError("This is not a CSV file. Upload the HMIS user export as CSV.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceError(
            f"The file is not UTF-8 text (byte {exc.start + 1}). Save the export as CSV UTF-8."
        ) from exc
    first = text.splitlines()[0] if text.splitlines() else ""
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        where = _columns(header)
        limit = int(current_app.config["HMIS_EXPORT_MAX_ROWS"])
        rows: list[ExportRow] = []
        problems: list[dict] = []
        seen: set[str] = set()
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) + len(problems) >= limit:
                raise ServiceError(
                    f"The file has more than {limit:,} rows; the portal reads at most that many."
                )
            line = reader.line_num

            def get(key: str, cells: list[str] = cells) -> str:
                index = where.get(key)
                return _cell(cells[index]) if index is not None and index < len(cells) else ""

            user_id, email, name, status = get("user_id"), get("email"), get("name"), get("status")
            why = None
            if not user_id:
                why = "no user id"
            elif user_id.casefold() in seen:
                why = f"user id {user_id} appears twice"
            elif status.casefold() not in ACTIVE | INACTIVE:
                why = f"status “{status}” is neither active nor inactive"
            if why:
                problems.append(_finding(UNREADABLE, user_id, email, name, f"Line {line}: {why}."))
                continue
            seen.add(user_id.casefold())
            rows.append(
                ExportRow(line, user_id, email.casefold(), name, status.casefold() in ACTIVE)
            )
    except csv.Error as exc:
        raise ServiceError(f"The file is not readable as CSV: {exc}.") from exc
    except StopIteration:
        raise ServiceError("The file is empty.") from None
    return rows, problems


def _columns(header: list[str]) -> dict[str, int]:
    keys = [_header_key(h) for h in header]
    where: dict[str, int] = {}
    for column, names in COLUMNS.items():
        for i, key in enumerate(keys):
            if key in names:
                where.setdefault(column, i)
    missing = [
        label
        for label, key in (
            ("User ID", "user_id"),
            ("Email", "email"),
            ("Status (or Active)", "status"),
        )
        if key not in where
    ]
    if missing:
        raise ServiceError(
            "The file lacks the column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(missing)
            + ". Its first line must name the columns "
            "User ID, Email and Status (or Active); Name is optional."
        )
    return where


def _finding(kind: str, user_id: str, email: str, name: str, reason: str, agency: str = "") -> dict:
    return {
        "kind": kind,
        "hmis_user_id": user_id,
        "email": email,
        "name": name,
        "agency": agency,
        "reason": reason,
    }


def _why_not_current(row: AccessRequest) -> str | None:
    """Why issued access is no longer current, or None if it is."""
    person = row.user
    separated = db.session.scalar(select(Separation).where(Separation.user_id == person.id))
    if separated is not None:
        return (
            f"Separated from {separated.agency.legal_name}: last day "
            f"{long_date(separated.last_day)} ({separated.reference})."
        )
    if not person.active:
        return f"Portal account deactivated: {person.deactivated_reason or 'no reason given'}."
    if standing.active_for_user(person) is not None:
        return "Access suspended pending investigation."
    return None


def findings(rows: list[ExportRow]) -> list[dict]:
    issued = list(db.session.scalars(select(AccessRequest).where(AccessRequest.state == "issued")))
    by_id = {r.hmis_user_id.casefold(): r for r in issued if r.hmis_user_id}
    by_email = {r.email.casefold(): r for r in issued}
    out: list[dict] = []
    for row in rows:
        if not row.active:
            continue
        match = by_id.get(row.user_id.casefold()) or (
            by_email.get(row.email) if row.email else None
        )
        if match is None:
            out.append(_finding(HMIS_ONLY, row.user_id, row.email, row.name, _never_issued(row)))
            continue
        why = _why_not_current(match)
        if why is None and match.hmis_user_id.casefold() != row.user_id.casefold():
            why = f"The e-mail matches {match.reference}, issued as HMIS user {match.hmis_user_id}."
        if why:
            out.append(
                _finding(HMIS_ONLY, row.user_id, row.email, row.name, why, match.agency.legal_name)
            )
    active_ids = {r.user_id.casefold() for r in rows if r.active}
    listed = {r.user_id.casefold(): r for r in rows}
    for match in issued:
        if _why_not_current(match) is not None or match.hmis_user_id.casefold() in active_ids:
            continue
        there = listed.get(match.hmis_user_id.casefold())
        why = "inactive in the HMIS" if there else "not in the HMIS export"
        out.append(
            _finding(
                PORTAL_ONLY,
                match.hmis_user_id,
                match.email,
                match.name,
                f"Issued here ({match.reference}) but {why}.",
                match.agency.legal_name,
            )
        )
    return out


def _never_issued(row: ExportRow) -> str:
    ids = [AccessRequest.hmis_user_id == row.user_id]
    if row.email:
        ids.append(AccessRequest.email == row.email)
    request = db.session.scalars(
        select(AccessRequest).where(or_(*ids)).order_by(AccessRequest.id.desc())
    ).first()
    if request is not None:
        state = request.state.replace("_", " ")
        return f"Never issued here: request {request.reference} is “{state}”."
    person = db.session.scalar(select(User).where(User.email == row.email)) if row.email else None
    if person is not None:
        return f"{person.name} has a portal account but was never issued HMIS access here."
    return "Unknown here: no request or person with this user id or e-mail."


def upload(admin: User, *, filename: str, data: bytes, request: RequestInfo) -> HmisReconciliation:
    require_role(admin, "ssf_admin", message="Only a lead agency HMIS admin reconciles.")
    name = _cell((filename or "").replace("\\", "/").rsplit("/", 1)[-1], 255) or "export.csv"
    rows, problems = parse(data)
    with unit_of_work():
        now = clock.now()
        result = HmisReconciliation(
            uploaded_at=now,
            uploaded_by_id=admin.id,
            filename=name,
            sha256=hashlib.sha256(data).hexdigest(),
            rows=len(rows) + len(problems),
            findings=findings(rows) + problems,
        )
        db.session.add(result)
        db.session.flush()
        audit.record(
            admin,
            "hmis_reconciliation.upload",
            result,
            f"Reconciled with the HMIS export {name}: {result.rows} rows, "
            f"{len(result.findings)} findings",
            agency_id=None,
            after={"sha256": result.sha256, "rows": result.rows},
            request=request,
            at=now,
        )
    return result


def get(viewer: User, reconciliation_id: int) -> HmisReconciliation:
    require_role(viewer, "ssf_admin", "ssf_signatory", "auditor")
    row = db.session.get(HmisReconciliation, reconciliation_id)
    if row is None:
        raise NotFound()
    return row


def history(viewer: User, *, page: int = 1):
    require_role(viewer, "ssf_admin", "ssf_signatory", "auditor")
    query = select(HmisReconciliation).order_by(HmisReconciliation.id.desc())
    return db.paginate(query, page=max(page, 1), per_page=25, error_out=False)


def grouped(row: HmisReconciliation) -> list[tuple[str, str, list[dict]]]:
    """The findings by kind, for the page: (kind, its title, its findings)."""
    return [
        (k, title, [f for f in row.findings if f.get("kind") == k]) for k, title in KINDS.items()
    ]

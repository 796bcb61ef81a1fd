"""The audit log page and its CSV export (SSF staff and auditors)."""

import csv
import io
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from portal.services import audit
from portal.services.audit_display import Entry, machines
from portal.services.audit_words import known_actions
from portal.services.errors import ServiceError
from portal.services.timefmt import local
from portal.views.common import cursor_args, refuse

bp = Blueprint("audit", __name__, url_prefix="/audit")

COLUMNS = [
    "When",
    "Who",
    "Action",
    "Action code",
    "Record",
    "Details",
    "Changes",
    "From",
    "Entry",
    "Hash",
]


@bp.get("/")
@login_required
def index():
    filters = audit.Filters.from_args(request.args)
    try:
        page = audit.search(current_user, filters, **cursor_args())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "audit/index.html",
        page=page,
        actions=known_actions(machines()),
        filters=filters.as_args(),
    )


@bp.get("/export.csv")
@login_required
def export():
    filters = audit.Filters.from_args(request.args)
    try:
        entries = audit.export(current_user, filters)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return Response(
        stream_with_context(_csv(entries)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


def _csv(entries: Iterator[Entry]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    for n, e in enumerate(entries, 1):
        when = local(e.at).isoformat(timespec="seconds")
        what = [e.words, e.action, e.record, e.details, e.changes_text]
        writer.writerow([when, e.who, *what, e.ip, e.seq, e.hash])
        if n % 200 == 0:
            yield flush()
    yield flush()

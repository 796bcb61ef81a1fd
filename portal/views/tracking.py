"""SSF's tracking view: every agency, open defaults, pending terminations, access awaiting
issuance and late separations, overdue first; filters, keyset paging and a CSV export.
An agency's people see the same view of their own agency."""

from __future__ import annotations

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

from portal.services import links, tracking
from portal.services.errors import ServiceError
from portal.services.timefmt import local_datetime
from portal.views.common import refuse

bp = Blueprint("tracking", __name__, url_prefix="/tracking")


def _filters() -> tracking.Filters:
    args = request.args
    return tracking.filters_for(
        current_user, args.get("agency", ""), args.get("kind", ""), args.get("overdue", "")
    )


@bp.get("/")
@login_required
def index():
    try:
        filters = _filters()
        page = tracking.page(current_user, filters, request.args.get("after", ""))
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("tracking.index"))
    return render_template(
        "tracking/index.html",
        page=page,
        filters=filters,
        kinds=tracking.KINDS,
        agencies=tracking.agency_choices(current_user),
    )


@bp.get("/export.csv")
@login_required
def export():
    try:
        filters = _filters()
        rows = tracking.every_row(current_user, filters)
        first = next(rows, None)  # authorization and filters are checked before streaming
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("tracking.index"))

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Kind", "Agency", "Case", "State", "Due or since", "Overdue", "Link"])
        for row in [first] if first else []:
            _write(writer, row)
        for row in rows:
            _write(writer, row)
            if out.tell() > 16_000:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=tracking.csv"},
    )


def _write(writer, row: tracking.Row) -> None:
    writer.writerow(
        [
            row.kind_title,
            row.agency_name,
            row.case_title,
            row.state_label,
            local_datetime(row.at),
            "yes" if row.overdue else "",
            links.page(row.url),
        ]
    )

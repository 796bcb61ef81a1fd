from datetime import datetime, time, timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.services import audit
from portal.services.errors import ServiceError
from portal.services.timefmt import lead_tz
from portal.views.common import page_arg, refuse

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _day(name: str, *, end: bool = False) -> datetime | None:
    raw = request.args.get(name, "")
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        return None
    start = datetime.combine(day + timedelta(days=1 if end else 0), time(), tzinfo=lead_tz())
    return start


@bp.get("/")
@login_required
def index():
    agency = request.args.get("agency", "")
    try:
        page = audit.search(
            current_user,
            action=request.args.get("action", "")[:60],
            agency_id=int(agency) if agency.isdigit() else None,
            actor_email=request.args.get("actor", "")[:254],
            since=_day("since"),
            until=_day("until", end=True),
            page=page_arg(),
        )
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "audit/index.html", page=page, actions=audit.actions(), args=request.args
    )

"""The suspensions part of the agency page, and the time left on a period.

The agency view calls `suspensions_of` and hands the result to its template; the filters
format deadlines. (The agreement page's Remedies section comes from
portal.services.notice_steps.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint
from flask_login import current_user

from forms.agreements import ReasonForm
from forms.remedies import SuspendForm
from portal import clock
from portal.models import Agency
from portal.models.remedies import Suspension
from portal.services import suspensions, timefmt

bp = Blueprint("remedies", __name__)


@dataclass
class SuspensionsPage:
    """The service's answer (`suspensions.of_agency`), with the forms this person may use."""

    rows: list[suspensions.Row]
    agency: Suspension | None
    people: dict[int, Suspension]
    suspend_form: SuspendForm | None = None
    lift_form: ReasonForm | None = None


def suspensions_of(agency: Agency) -> SuspensionsPage:
    """Suspensions of an agency the page already showed to the current person."""
    shown = suspensions.of_agency(current_user, agency)
    page = SuspensionsPage(shown.rows, shown.agency, shown.people)
    if shown.may_lift:
        page.lift_form = ReasonForm()
    if shown.choices:
        page.suspend_form = SuspendForm()
        page.suspend_form.person.choices = shown.choices
    return page


@bp.app_template_filter("time_left")
def time_left_filter(until: datetime) -> str:
    return time_left(until, clock.now())


def time_left(until: datetime, now: datetime) -> str:
    """E.g. "6 days 4 hours left", "35 minutes left" or "ended" — whole units, rounded down."""
    seconds = int((until - now).total_seconds())
    if seconds <= 0:
        return "ended"
    days, rest = divmod(seconds // 60, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [_count(days, "day"), _count(hours, "hour")]
    elif hours:
        parts = [_count(hours, "hour"), _count(minutes, "minute")]
    elif minutes:
        parts = [_count(minutes, "minute")]
    else:
        return "less than a minute left"
    return " ".join(p for p in parts if p) + " left"


def _count(n: int, unit: str) -> str:
    return "" if n == 0 else f"{n} {unit}{'' if n == 1 else 's'}"


bp.add_app_template_filter(timefmt.local_instant, "instant")


@bp.app_template_filter("iso_local")
def iso_local(moment: datetime) -> str:
    """ISO 8601 with the lead agency's offset, as the `deadline` command prints it."""
    return timefmt.local(moment).isoformat()

"""The remedy parts of the agreement and agency pages, and the time left on a period.

The agreement and agency views call `remedies_of` and `suspensions_of` and hand the result
to their templates; the filters format deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint
from flask_login import current_user

from forms.agreements import ReasonForm
from forms.remedies import SuspendForm
from portal import clock
from portal.models import Agency, Agreement
from portal.models.remedies import DefaultNotice, Suspension, TerminationNotice
from portal.services import default_notices, suspensions, terminations, timefmt
from workflows.default_notice import DEFAULT_NOTICE
from workflows.termination_notice import TERMINATION_NOTICE

bp = Blueprint("remedies", __name__)
# The agreement page lists notices with their states in words.
bp.add_app_template_global(DEFAULT_NOTICE, "default_notice_machine")
bp.add_app_template_global(TERMINATION_NOTICE, "termination_notice_machine")


@dataclass
class AgreementRemedies:
    default_notices: list[DefaultNotice]
    termination_notices: list[TerminationNotice]
    may_give_default: bool
    may_give_termination: bool
    running_termination: TerminationNotice | None


def remedies_of(agreement: Agreement) -> AgreementRemedies:
    """Notices on an agreement the page already showed to the current person."""
    given_default = default_notices.for_agreement(current_user, agreement.id)
    given_termination = terminations.for_agreement(current_user, agreement.id)
    running = next((n for n in given_termination if n.state == "notice_period"), None)
    return AgreementRemedies(
        default_notices=given_default,
        termination_notices=given_termination,
        may_give_default=default_notices.may_give(current_user, agreement),
        may_give_termination=running is None and terminations.may_give(current_user, agreement),
        running_termination=running,
    )


@dataclass
class AgencySuspensions:
    history: list[Suspension]
    agency: Suspension | None  # a suspension of the whole agency, in force
    people: dict[int, Suspension] = field(default_factory=dict)  # user id → in force
    suspend_form: SuspendForm | None = None
    lift_form: ReasonForm | None = None


def suspensions_of(agency: Agency) -> AgencySuspensions:
    """Suspensions of an agency the page already showed to the current person."""
    history = suspensions.for_agency(agency.id)
    in_force = [s for s in history if s.state == "suspended"]
    shown = AgencySuspensions(
        history=history,
        agency=next((s for s in in_force if s.user_id is None), None),
        people={s.user_id: s for s in in_force if s.user_id is not None},
    )
    if current_user.role == "ssf_admin":  # the service refuses anyone else anyway
        whole = [] if shown.agency else [("", f"The whole agency: {agency.legal_name}")]
        people = [
            (str(p.id), f"{p.name}, {p.title} ({p.role_label})")
            for p in agency.people
            if p.active and p.id not in shown.people
        ]
        shown.lift_form = ReasonForm()
        if whole or people:
            shown.suspend_form = SuspendForm()
            shown.suspend_form.person.choices = whole + people
    return shown


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

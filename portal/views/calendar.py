"""SSF's holiday calendar, and a calculator for when a notice period ends."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.agreements import ActionForm
from forms.remedies import CalculatorForm, HolidayForm
from portal import clock
from portal.services import deadlines, holidays
from portal.services.errors import ServiceError
from portal.services.timefmt import local_date
from portal.views.common import refuse, request_info
from workflows.calendar import DeadlineRule

bp = Blueprint("calendar", __name__)


def _year_arg() -> int:
    raw = request.args.get("year", "")
    if raw.isdigit() and 1900 < int(raw) < 2200:
        return int(raw)
    return local_date(clock.now()).year


@bp.get("/holidays")
@login_required
def holiday_list():
    year = _year_arg()
    try:
        days = holidays.for_year_seen_by(current_user, year)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "calendar/holidays.html",
        year=year,
        holidays=days,
        may_edit=holidays.may_edit(current_user),
        form=HolidayForm(),
        remove_form=ActionForm(),
    )


@bp.post("/holidays")
@login_required
def holiday_add():
    form = HolidayForm()
    if form.validate_on_submit():
        try:
            holiday = holidays.add(current_user, form.day.data, form.name.data, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Added {holiday.name} on {holiday.day:%B} {holiday.day.day}.", "success")
            return redirect(url_for("calendar.holiday_list", year=holiday.day.year))
    else:
        for errors in form.errors.values():
            flash(" ".join(errors), "danger")
    return redirect(url_for("calendar.holiday_list"))


@bp.post("/holidays/<int:holiday_id>/remove")
@login_required
def holiday_remove(holiday_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        try:
            holidays.remove(current_user, holiday_id, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash("Holiday removed; it counts as a business day again.", "info")
    return redirect(url_for("calendar.holiday_list", year=_year_arg()))


@bp.get("/calculator")
@login_required
def calculator():
    """A GET form: the answer has its own address, and the page works without JavaScript."""
    form = CalculatorForm(request.args if request.args else None)
    result = rule = None
    if request.args and form.validate():
        rule = DeadlineRule(form.days.data, form.business_days.data, form.roll.data)
        result = deadlines.compute_from_date(form.given_on.data, rule)
    elif not request.args:
        form.given_on.data = local_date(clock.now())
    return render_template(
        "calendar/calculator.html",
        form=form,
        rule=rule,
        result=result,
        cure_rule=deadlines.rule("cure_period"),
        termination_rule=deadlines.rule("termination_notice"),
    )

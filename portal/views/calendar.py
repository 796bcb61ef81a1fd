"""SSF's holiday calendar, a calculator for when a notice period ends, every deadline on a
month calendar, and each person's ICS feed at a secret, revocable address."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.agreements import ActionForm
from forms.remedies import CalculatorForm, HolidayForm
from portal import clock
from portal.services import calendar_feeds, deadline_calendar, deadlines, holidays, links
from portal.services.errors import NotFound, ServiceError
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


def _month_arg() -> int:
    raw = request.args.get("month", "")
    if raw.isdigit() and 1 <= int(raw) <= 12:
        return int(raw)
    return local_date(clock.now()).month


@bp.get("/calendar/")
@login_required
def month():
    """The month's deadlines: a grid on a wide screen, a list on a phone."""
    now = clock.now()
    try:
        shown = deadline_calendar.month_of(current_user, _year_arg(), _month_arg(), now)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template("calendar/month.html", month=shown)


@bp.get("/calendar/feed")
@login_required
def feed():
    return render_template(
        "calendar/feed.html",
        feed=calendar_feeds.active(current_user),
        form=ActionForm(),
        address=None,
    )


@bp.post("/calendar/feed")
@login_required
def feed_create():
    form = ActionForm()
    if not form.validate_on_submit():
        flash("The form had expired; try again.", "danger")
        return redirect(url_for("calendar.feed"))
    try:
        token = calendar_feeds.create(current_user, request_info())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("calendar.feed"))
    address = links.page(url_for("calendar.feed_ics", token=token))
    return render_template(
        "calendar/feed.html", feed=calendar_feeds.active(current_user), form=form, address=address
    )


@bp.post("/calendar/feed/revoke")
@login_required
def feed_revoke():
    form = ActionForm()
    if form.validate_on_submit():
        try:
            revoked = calendar_feeds.revoke(current_user, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash("The old address no longer works." if revoked else "You had no feed.", "info")
    return redirect(url_for("calendar.feed"))


@bp.get("/calendar/feed/<token>.ics")
def feed_ics(token: str):
    """No sign-in: the secret address is the key. Unknown or revoked: 404."""
    try:
        body = calendar_feeds.ics(token)
    except NotFound:
        abort(404)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )

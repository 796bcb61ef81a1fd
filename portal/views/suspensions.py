"""Suspending an agency's or a person's access, and lifting it (IV.B.1), from the agency page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_required

from forms.agreements import ReasonForm
from forms.remedies import SuspendForm
from portal.services import agencies, suspensions
from portal.services.errors import ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("suspensions", __name__, url_prefix="/agencies/<int:agency_id>/suspensions")


def _visible(agency_id: int) -> None:
    # Other agencies' people get a 404 here as on the agency page, before any role check.
    try:
        agencies.get(current_user, agency_id)
    except ServiceError as err:
        refuse(err)


@bp.post("")
@login_required
def suspend(agency_id: int):
    _visible(agency_id)
    form = SuspendForm()
    # Whose access is checked by the service (a person of this agency); any id may be asked.
    form.person.validate_choice = False
    if not form.validate_on_submit():
        # A page from before the form had a key is asked to reload (form_keys.MISSING).
        problems = list(form.form_key.errors)
        if form.reason.errors or not problems:
            problems.insert(0, "Give the reason for the suspension.")
        flash(" ".join(problems), "danger")
        return redirect(url_for("agencies.show", agency_id=agency_id))
    raw = form.person.data or ""
    try:
        suspension = suspensions.suspend(
            current_user,
            agency_id,
            user_id=int(raw) if raw.isdigit() else None,
            reason=form.reason.data,
            request=request_info(),
            form_key=form.form_key.data,
        )
    except ServiceError as err:
        refuse(err)
    else:
        whom = suspension.user.name if suspension.user else suspension.agency.legal_name
        if getattr(suspension, "already_given", False):  # the same form sent again
            flash(f"{whom} was already suspended with this form; nothing was done again.", "info")
        else:
            flash(f"Suspended: {whom}. They cannot log in or sign until it is lifted.", "warning")
    return redirect(url_for("agencies.show", agency_id=agency_id))


@bp.post("/<int:suspension_id>/lift")
@login_required
def lift(agency_id: int, suspension_id: int):
    _visible(agency_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give the reason for lifting the suspension.", "danger")
        return redirect(url_for("agencies.show", agency_id=agency_id))
    try:
        suspensions.lift(
            current_user, suspension_id, reason=form.reason.data, request=request_info()
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash("Suspension lifted; access is restored.", "success")
    return redirect(url_for("agencies.show", agency_id=agency_id))

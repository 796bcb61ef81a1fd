"""HMIS access requests, the agency's security officer and its participation fees."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.access_requests import (
    AccessRequestForm,
    FeeForm,
    IssueForm,
    SecurityOfficerForm,
    WithdrawForm,
)
from portal import clock
from portal.services import access_requests, agencies, fees, gates, security_officers
from portal.services.errors import ServiceError
from portal.services.timefmt import local_date
from portal.views import pictures
from portal.views.common import cursor_args, refuse, request_info, version_of
from workflows.access_request import ACCESS_REQUEST

bp = Blueprint("access_requests", __name__)


@bp.get("/access-requests/")
@login_required
def index():
    state = request.args.get("state", "")
    if state and state not in {s.name for s in ACCESS_REQUEST.states}:
        state = ""
    try:
        page = access_requests.list_for(current_user, state=state, **cursor_args())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "access_requests/index.html", page=page, state=state, machine=ACCESS_REQUEST
    )


@bp.route("/agencies/<int:agency_id>/access-requests/new", methods=["GET", "POST"])
@login_required
def new(agency_id: int):
    try:
        agency = agencies.get(current_user, agency_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = AccessRequestForm()
    form.hmis_role.choices = [("", "Choose…"), *access_requests.HMIS_ROLES.items()]
    refusal = access_requests.refusal_to_request(current_user, agency)
    if refusal is None and form.validate_on_submit():
        staff = access_requests.NewStaff(
            form.name.data,
            form.email.data,
            form.job_title.data,
            form.hmis_role.data,
            form.programs.data,
        )
        try:
            row = access_requests.request_access(
                current_user, agency_id, staff, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Requested: {row.name} has been invited to set a password.", "success")
            return redirect(url_for("access_requests.show", request_id=row.id))
    return render_template("access_requests/new.html", form=form, agency=agency, refusal=refusal)


@bp.get("/access-requests/<int:request_id>")
@login_required
def show(request_id: int):
    try:
        row = access_requests.get(current_user, request_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    issue_form = IssueForm(lock_version=row.lock_version)
    if not issue_form.issued_on.data:
        issue_form.issued_on.data = local_date(clock.now())
    return render_template(
        "access_requests/show.html",
        row=row,
        machine=ACCESS_REQUEST,
        gates=gates.for_request(row),
        refusal_to_issue=access_requests.refusal_to_issue(row),
        steps=access_requests.next_steps(row, current_user),
        roles=access_requests.HMIS_ROLES,
        **pictures.history_and_diagram(ACCESS_REQUEST, row.id, row.state),
        issue_form=issue_form,
        withdraw_form=WithdrawForm(),
    )


@bp.post("/access-requests/<int:request_id>/issue")
@login_required
def issue(request_id: int):
    form = IssueForm()
    if form.validate_on_submit():
        try:
            access_requests.issue(
                current_user,
                request_id,
                hmis_user_id=form.hmis_user_id.data,
                issued_on=form.issued_on.data,
                request=request_info(),
                expected_version=version_of(form),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("The HMIS account is issued.", "success")
    else:
        _form_errors(form)
    return redirect(url_for("access_requests.show", request_id=request_id))


@bp.post("/access-requests/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int):
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            access_requests.withdraw(
                current_user, request_id, reason=form.reason.data, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("The request is withdrawn.", "success")
    else:
        _form_errors(form)
    return redirect(url_for("access_requests.show", request_id=request_id))


@bp.post("/agencies/<int:agency_id>/security-officer")
@login_required
def designate_officer(agency_id: int):
    form = SecurityOfficerForm()
    if form.validate_on_submit():
        try:
            holder = security_officers.designate(
                current_user, agency_id, email=form.email.data, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"{holder.user.name} is now the agency's security officer.", "success")
    else:
        _form_errors(form)
    return redirect(url_for("agencies.show", agency_id=agency_id) + "#h-security-officer")


@bp.post("/agencies/<int:agency_id>/fees")
@login_required
def record_fee(agency_id: int):
    form = FeeForm()
    if form.validate_on_submit():
        try:
            fees.record(
                current_user,
                agency_id,
                year=form.year.data,
                amount=form.amount.data,
                waived=form.waived.data,
                paid_on=form.paid_on.data,
                note=form.note.data or "",
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"The {form.year.data} participation fee is recorded.", "success")
    else:
        _form_errors(form)
    return redirect(url_for("agencies.show", agency_id=agency_id) + "#h-fees")


def _form_errors(form) -> None:
    for field, errors in form.errors.items():
        label = getattr(form, field).label.text if hasattr(form, field) else field
        for error in errors:
            flash(f"{label}: {error}", "danger")

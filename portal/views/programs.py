"""Programs of an agency (VIII.B.5) and recording that an agency ceased to operate
(VIII.B.6)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.programs import CloseAgencyForm, GrantTerminatedForm, ProgramForm, ReallocateForm
from portal.models import Agency
from portal.services import agencies, agency_closure, programs, reallocations
from portal.services.errors import ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("programs", __name__)


def _agency_or_home(agency_id: int) -> Agency | None:
    try:
        return agencies.get(current_user, agency_id)
    except ServiceError as err:
        refuse(err)
        return None


@bp.route("/agencies/<int:agency_id>/programs/new", methods=["GET", "POST"])
@login_required
def new(agency_id: int):
    agency = _agency_or_home(agency_id)
    if agency is None:
        return redirect(url_for("home.index"))
    form = ProgramForm()
    if form.validate_on_submit():
        try:
            programs.add(
                current_user,
                agency_id,
                name=form.name.data,
                funding_source=form.funding_source.data,
                hud_grant_number=form.hud_grant_number.data or "",
                start_date=form.start_date.data,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("The program was added.", "success")
            return redirect(url_for("agencies.show", agency_id=agency_id))
    elif request.method == "POST":
        flash("Give the program's name, funding source and start date.", "danger")
    return render_template("programs/form.html", form=form, agency=agency, program=None)


@bp.route("/programs/<int:program_id>", methods=["GET", "POST"])
@login_required
def show(program_id: int):
    try:
        program = programs.get(current_user, program_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = ProgramForm(obj=program)
    if form.validate_on_submit():
        try:
            programs.edit(
                current_user,
                program_id,
                name=form.name.data,
                funding_source=form.funding_source.data,
                hud_grant_number=form.hud_grant_number.data or "",
                start_date=form.start_date.data,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("The program was saved.", "success")
            return redirect(url_for("programs.show", program_id=program_id))
    reallocate = ReallocateForm()
    reallocate.acquiring_agency.choices = _other_agencies(program.agency_id)
    return render_template(
        "programs/show.html",
        program=program,
        form=form,
        agency=program.agency,
        reallocate=reallocate,
        terminate=GrantTerminatedForm(),
    )


def _other_agencies(agency_id: int) -> list[tuple[str, str]]:
    return [("", "Choose…"), *reallocations.acquiring_choices(current_user, agency_id)]


@bp.post("/programs/<int:program_id>/grant-terminated")
@login_required
def grant_terminated(program_id: int):
    form = GrantTerminatedForm()
    if form.validate_on_submit():
        try:
            programs.terminate_grant(
                current_user, program_id, reason=form.reason.data, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("The program is now read-only: its grant was terminated.", "success")
    else:
        flash("Say why the grant was terminated.", "danger")
    return redirect(url_for("programs.show", program_id=program_id))


@bp.route("/agencies/<int:agency_id>/close", methods=["GET", "POST"])
@login_required
def close_agency(agency_id: int):
    agency = _agency_or_home(agency_id)
    if agency is None:
        return redirect(url_for("home.index"))
    form = CloseAgencyForm()
    if form.validate_on_submit():
        try:
            agency_closure.close(
                current_user, agency_id, reason=form.reason.data, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Recorded: {agency.legal_name} ceased to operate.", "success")
            return redirect(url_for("agencies.show", agency_id=agency_id))
    elif request.method == "POST":
        flash("Say why the agency ceased to operate.", "danger")
    return render_template("programs/close_agency.html", form=form, agency=agency)


@bp.app_template_global()
def agency_programs(agency: Agency) -> dict:
    """What the agency page's programs section shows (templates/programs/_agency.html)."""
    from portal.services import site_visits

    visits = (
        site_visits.for_agency(current_user, agency.id) if site_visits.sees(current_user) else []
    )
    return {
        "programs": programs.for_agency(current_user, agency.id),
        "reallocations": reallocations.for_agency(current_user, agency.id),
        "visits": visits,
        "closed_notice": agency_closure.COC_PROPERTY,
    }


@bp.app_template_global()
def active_program_names(agency: Agency) -> list[str]:
    """The agency's active programs, for forms that name programs (templates/programs/
    _active_hint.html)."""
    return programs.active_names(agency)

"""Separations (V.E.12): the agency reports who left; the lead agency's HMIS admins record the
HMIS deactivations. Also the list of HMIS accounts to deactivate and the HMIS reconciliation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.separations import ExportForm, HmisDeactivatedForm, SeparationForm
from portal.services import agencies, reconciliation, separations
from portal.services.errors import ServiceError
from portal.views import pictures
from portal.views.common import page_arg, refuse, request_info, version_of
from workflows.separation import SEPARATION

bp = Blueprint("separations", __name__)


@bp.get("/separations/")
@login_required
def index():
    try:
        page = separations.list_for(current_user, page=page_arg())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    agency = current_user.agency
    may_report = separations.may_report(current_user, agency)
    return render_template(
        "separations/index.html", page=page, may_report=may_report, agency=agency
    )


@bp.route("/agencies/<int:agency_id>/separations/new", methods=["GET", "POST"])
@login_required
def new(agency_id: int):
    try:
        agency = agencies.get(current_user, agency_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = SeparationForm()
    form.person.choices = [("", "Choose…"), *separations.choices(current_user, agency)]
    form.person.validate_choice = False  # the service checks whose separation it is
    if form.validate_on_submit():
        raw = form.person.data or ""
        try:
            row = separations.report(
                current_user,
                agency_id,
                user_id=int(raw) if raw.isdigit() and len(raw) < 12 else 0,
                last_day=form.last_day.data,
                note=form.note.data or "",
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(_reported(row), "success" if row.on_time else "warning")
            return redirect(url_for("separations.show", separation_id=row.id))
    elif request.method == "POST":
        flash("Choose who left and give their last day as a date.", "danger")
    return render_template(
        "separations/new.html",
        form=form,
        agency=agency,
        may_report=separations.may_report(current_user, agency),
        rule=separations.rule_words(),
    )


def _reported(row) -> str:
    late = "" if row.on_time else " The report is late: it was due " + row.due_rule_text + "."
    return f"{row.user.name}'s portal access has ended ({row.reference}).{late}"


@bp.get("/separations/<int:separation_id>")
@login_required
def show(separation_id: int):
    try:
        row = separations.get(current_user, separation_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "separations/show.html",
        row=row,
        machine=SEPARATION,
        steps=separations.next_steps(row, current_user),
        **pictures.history_and_diagram(SEPARATION, row.id, row.state),
        form=HmisDeactivatedForm(lock_version=row.lock_version),
    )


@bp.post("/separations/<int:separation_id>/hmis-deactivated")
@login_required
def hmis_deactivated(separation_id: int):
    form = HmisDeactivatedForm()
    if form.validate_on_submit():
        try:
            row = separations.record_hmis_deactivation(
                current_user,
                separation_id,
                request=request_info(),
                expected_version=version_of(form),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Recorded: HMIS user {row.hmis_user_id} is deactivated.", "success")
    back = request.form.get("back") == "list"
    if back:
        return redirect(url_for("separations.to_deactivate"))
    return redirect(url_for("separations.show", separation_id=separation_id))


@bp.get("/hmis-accounts/deactivate")
@login_required
def to_deactivate():
    try:
        rows = separations.to_deactivate(current_user)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template("separations/to_deactivate.html", rows=rows, form=HmisDeactivatedForm())


@bp.route("/hmis-accounts/reconcile", methods=["GET", "POST"])
@login_required
def reconcile():
    form = ExportForm()
    if form.validate_on_submit():
        upload = form.export.data
        try:
            data = upload.read(reconciliation.MAX_BYTES + 1)
            row = reconciliation.upload(
                current_user, filename=upload.filename or "", data=data, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Reconciled: {row.rows} rows, {len(row.findings)} findings.", "success")
            return redirect(url_for("separations.reconciliation_show", reconciliation_id=row.id))
    elif request.method == "POST":
        flash("Choose the export's CSV file.", "danger")
    try:
        page = reconciliation.history(current_user, page=page_arg())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template("separations/reconcile.html", form=form, page=page)


@bp.get("/hmis-accounts/reconcile/<int:reconciliation_id>")
@login_required
def reconciliation_show(reconciliation_id: int):
    try:
        row = reconciliation.get(current_user, reconciliation_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "separations/reconciliation.html", row=row, groups=reconciliation.grouped(row)
    )

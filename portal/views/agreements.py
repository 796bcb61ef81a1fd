from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.agreements import ActionForm, ReasonForm, SignForm
from portal.services import (
    agreement_signatures,
    agreements,
    amendments,
    next_steps,
    notice_steps,
    signature_followup,
)
from portal.services.errors import ServiceError
from portal.views import pictures
from portal.views.amendments import amend_label
from portal.views.common import cursor_args, refuse, request_info, version_of
from workflows.agreement import AGREEMENT
from workflows.amendment import AMENDMENT

bp = Blueprint("agreements", __name__, url_prefix="/agreements")


@bp.get("/")
@login_required
def index():
    page = agreements.list_for(current_user, **cursor_args())
    return render_template("agreements/index.html", page=page)


@bp.post("/start/<int:agency_id>")
@login_required
def start(agency_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        try:
            agreement = agreements.create(current_user, agency_id, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Agreement {agreement.reference} is ready to send.", "success")
            return redirect(url_for("agreements.show", agreement_id=agreement.id))
    return redirect(url_for("agencies.show", agency_id=agency_id))


@bp.get("/<int:agreement_id>")
@login_required
def show(agreement_id: int):
    try:
        agreement = agreements.get(current_user, agreement_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "agreements/show.html",
        agreement=agreement,
        machine=AGREEMENT,
        steps=agreements.next_steps(agreement, current_user),
        **pictures.history_and_diagram(AGREEMENT, agreement.id, agreement.state),
        remedies=notice_steps.on_agreement(current_user, agreement),
        amendments=amendments.for_agreement(current_user, agreement.id),
        in_force=amendments.in_force(agreement),
        amendment_machine=AMENDMENT,
        amend_label=amend_label(current_user, agreement),
        action_form=ActionForm(lock_version=agreement.lock_version),
        reason_form=ReasonForm(lock_version=agreement.lock_version),
        signature_panel=signature_followup.panel(current_user, AGREEMENT.name, agreement),
    )


@bp.post("/<int:agreement_id>/send")
@login_required
def send(agreement_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        try:
            agreements.send(
                current_user, agreement_id, request_info(), expected_version=version_of(form)
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Sent: the executive director has been asked to sign.", "success")
    return redirect(url_for("agreements.show", agreement_id=agreement_id))


@bp.route("/<int:agreement_id>/sign", methods=["GET", "POST"])
@login_required
def sign(agreement_id: int):
    try:
        view = agreement_signatures.signing_view(current_user, agreement_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    if request.method == "GET" and view.may_sign:
        signature_followup.opened(current_user, AGREEMENT.name, agreement_id)  # first view
    form = SignForm(lock_version=view.agreement.lock_version)
    if form.validate_on_submit():
        act = (
            agreement_signatures.countersign
            if view.event == "lead_countersigns"
            else agreement_signatures.sign_as_agency
        )
        try:
            act(
                current_user,
                agreement_id,
                password=form.password.data,
                intent=form.intent.data,
                consent=form.consent.data,
                request=request_info(),
                expected_version=version_of(form),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Signed. Thank you.", "success")
            return redirect(url_for("agreements.show", agreement_id=agreement_id))
    expiry = signature_followup.expiry(AGREEMENT.name, view.agreement)
    return render_template("agreements/sign.html", view=view, form=form, expiry=expiry)


@bp.post("/<int:agreement_id>/<any(decline, void):action>")
@login_required
def close(agreement_id: int, action: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give a reason.", "danger")
        return redirect(url_for("agreements.show", agreement_id=agreement_id))
    act = agreements.decline if action == "decline" else agreements.void
    try:
        agreement = act(
            current_user,
            agreement_id,
            reason=form.reason.data,
            request=request_info(),
            expected_version=version_of(form),
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash(f"{next_steps.state_of(agreement).label}.", "info")
    return redirect(url_for("agreements.show", agreement_id=agreement_id))

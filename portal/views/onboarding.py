"""A new HMIS user's onboarding: the invitation, the page with what is done and left, the
HMIS User Agreement's signature and approval, and the certificate of participation."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.onboarding import (
    ApproveUserAgreementForm,
    ButtonForm,
    ReopenTrainingForm,
    SignUserAgreementForm,
)
from portal.services import (
    onboarding,
    onboarding_page,
    participation,
    signature_followup,
    user_agreements,
)
from portal.services.errors import ServiceError
from portal.views import auth as auth_views
from portal.views import pictures
from portal.views.common import refuse, request_info
from workflows.onboarding import ONBOARDING

bp = Blueprint("onboarding", __name__)


@bp.get("/onboarding/<int:onboarding_id>")
@login_required
def show(onboarding_id: int):
    try:
        view = onboarding_page.page(current_user, onboarding_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    ob = view.onboarding
    if ob.state == "signing" and ob.user_id == current_user.id:
        signature_followup.opened(current_user, ONBOARDING.name, ob.id)  # the first view
    return render_template(
        "onboarding/show.html",
        view=view,
        ob=view.onboarding,
        machine=ONBOARDING,
        **pictures.history_and_diagram(ONBOARDING, onboarding_id, view.onboarding.state),
        sign_form=SignUserAgreementForm(),
        approve_form=ApproveUserAgreementForm(),
        button_form=ButtonForm(),
        reopen_form=ReopenTrainingForm(),
        signature_panel=signature_followup.panel(current_user, ONBOARDING.name, ob),
        expiry=signature_followup.expiry(ONBOARDING.name, ob),
    )


def _back(onboarding_id: int):
    return redirect(url_for("onboarding.show", onboarding_id=onboarding_id))


@bp.post("/onboarding/<int:onboarding_id>/<any(sign, approve):action>")
@login_required
def signature(onboarding_id: int, action: str):
    form = SignUserAgreementForm() if action == "sign" else ApproveUserAgreementForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(errors), "danger")
        return _back(onboarding_id)
    act = user_agreements.sign if action == "sign" else user_agreements.approve
    try:
        act(
            current_user,
            onboarding_id,
            password=form.password.data,
            intent=form.intent.data,
            consent=form.consent.data,
            request=request_info(),
        )
    except ServiceError as err:
        refuse(err)
    else:
        done = "Signed" if action == "sign" else "Approved"
        flash(f"{done}. Thank you.", "success")
    return _back(onboarding_id)


@bp.post("/onboarding/<int:onboarding_id>/reinvite")
@login_required
def reinvite(onboarding_id: int):
    if ButtonForm().validate_on_submit():
        try:
            onboarding.reinvite(current_user, onboarding_id, request=request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash("A new invitation is on its way; the older link no longer works.", "success")
    return _back(onboarding_id)


@bp.post("/onboarding/<int:onboarding_id>/reopen-training")
@login_required
def reopen_training(onboarding_id: int):
    form = ReopenTrainingForm()
    if not form.validate_on_submit():
        flash("Give a reason to reopen the training window.", "danger")
        return _back(onboarding_id)
    try:
        onboarding.reopen_training(
            current_user, onboarding_id, reason=form.reason.data, request=request_info()
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash("The training window is open again.", "success")
    return _back(onboarding_id)


@bp.route(f"{onboarding.INVITATION_PATH}/<token>", methods=["GET", "POST"])
def invitation(token: str):
    return auth_views.password_from_link(
        token,
        onboarding.accept_invitation,
        template="onboarding/invitation.html",
        welcome="Your password is set. Next, read and sign the HMIS User Agreement.",
        target=_onboarding_page,
    )


def _onboarding_page(user) -> str:
    mine = onboarding.of_user(user)
    if mine is None:
        return url_for("home.index")
    return url_for("onboarding.show", onboarding_id=mine.id)


@bp.post("/access-requests/<int:request_id>/certificate")
@login_required
def certificate(request_id: int):
    if ButtonForm().validate_on_submit():
        try:
            row = participation.issue_certificate(current_user, request_id, request=request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash(
                f"Certificate of participation issued (version {len(row.certificate.versions)}).",
                "success",
            )
    else:
        flash("The form expired; reload the page and try again.", "danger")
    return redirect(url_for("access_requests.show", request_id=request_id))

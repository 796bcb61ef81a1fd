"""Amendments to an agreement in effect (VIII.B.2): draft or propose, decide, send, sign.

Thin views over portal/services/amendments.py, which decides who may do what; the buttons
on an amendment's page are the steps its machine (workflows/amendment.py) offers.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.agreements import ActionForm, ReasonForm, SignForm
from forms.amendments import AmendmentForm
from portal.models import Agreement, User
from portal.services import (
    agencies,
    agreements,
    amendment_drafts,
    amendments,
    signature_followup,
)
from portal.services.access import is_lead_staff
from portal.services.errors import ServiceError
from portal.views import pictures
from portal.views.common import refuse, request_info, version_of
from workflows.agreement import AGREEMENT
from workflows.amendment import AMENDMENT

bp = Blueprint("amendments", __name__)

# Each step of the machine as a button on the amendment's page: a plain button ("act"), the
# signing page ("sign"), or a button with a reason ("reason"); and the action in its URL.
BUTTONS: dict[str, tuple[str, str]] = {
    "accept_proposal": ("act", "accept"),
    "send": ("act", "send"),
    "agency_signs": ("sign", ""),
    "lead_countersigns": ("sign", ""),
    "decline_proposal": ("reason", "decline-proposal"),
    "agency_declines": ("reason", "decline"),
    "lead_declines": ("reason", "decline"),
    "void": ("reason", "void"),
}
ACTS = {"accept": amendments.accept_proposal, "send": amendments.send}
CLOSES = {
    "decline-proposal": amendments.decline_proposal,
    "decline": amendments.decline,
    "void": amendments.void,
}
DONE = {
    "accept": "Accepted: the proposal is now a draft to send.",
    "send": "Sent: the executive director has been asked to sign.",
}


NOT_YOURS = (
    "Only the lead agency's HMIS administrators draft amendments, and only the agency's "
    "executive director (or the representative the lead agency designated) proposes one."
)


def amend_label(user: User, agreement: Agreement) -> str | None:
    """The agreement page's button to start an amendment, if this person may: the lead
    agency's admins draft one, the agency's signer proposes one (the services' own rules,
    which check again)."""
    if agreement.state != "effective":
        return None
    if user.role == "ssf_admin":
        return "Draft an amendment"
    if agencies.may_sign_for(user, agreement.agency):
        return "Propose an amendment"
    return None


def _refusal(user: User, agreement: Agreement) -> str | None:
    """Why the form is not offered to this person now, or None."""
    if agreement.state != "effective":
        return amendment_drafts.NOT_IN_EFFECT.format(
            reference=agreement.reference, state=AGREEMENT.state(agreement.state).label
        )
    return None if amend_label(user, agreement) else NOT_YOURS


def _to(amendment_id: int):
    return redirect(url_for("amendments.show", amendment_id=amendment_id))


@bp.route("/agreements/<int:agreement_id>/amendments/new", methods=["GET", "POST"])
@login_required
def new(agreement_id: int):
    try:
        agreement = agreements.get(current_user, agreement_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    # The lead agency drafts; anyone else asks the service to take it as a proposal, and
    # the service decides whether they may.
    proposing = not is_lead_staff(current_user)
    form = AmendmentForm()
    if form.validate_on_submit():
        act = amendments.propose if proposing else amendments.draft
        try:
            amendment = act(
                current_user,
                agreement_id,
                sections=form.sections.data,
                new_text=form.new_text.data,
                reason=form.reason.data,
                form_key=form.form_key.data,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            if getattr(amendment, "already_given", False):
                flash(
                    f"Amendment {amendment.reference} was already made with this form; "
                    "nothing was made again.",
                    "info",
                )
            elif proposing:
                flash(f"Amendment {amendment.reference} proposed.", "success")
            else:
                flash(f"Amendment {amendment.reference} drafted; send it when ready.", "success")
            return _to(amendment.id)
    return render_template(
        "amendments/new.html",
        agreement=agreement,
        form=form,
        proposing=proposing,
        refusal=_refusal(current_user, agreement),
        in_force=amendments.in_force(agreement),
    )


@bp.get("/amendments/<int:amendment_id>")
@login_required
def show(amendment_id: int):
    try:
        amendment = amendments.get(current_user, amendment_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "amendments/show.html",
        amendment=amendment,
        machine=AMENDMENT,
        steps=amendments.next_steps(amendment, current_user),
        buttons=BUTTONS,
        **pictures.history_and_diagram(AMENDMENT, amendment.id, amendment.state),
        action_form=ActionForm(lock_version=amendment.lock_version),
        reason_form=ReasonForm(lock_version=amendment.lock_version),
        signature_panel=signature_followup.panel(current_user, AMENDMENT.name, amendment),
    )


@bp.post("/amendments/<int:amendment_id>/<any(accept, send):action>")
@login_required
def act(amendment_id: int, action: str):
    form = ActionForm()
    if form.validate_on_submit():
        try:
            ACTS[action](
                current_user, amendment_id, request_info(), expected_version=version_of(form)
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(DONE[action], "success")
    return _to(amendment_id)


@bp.post("/amendments/<int:amendment_id>/<any('decline-proposal', decline, void):action>")
@login_required
def close(amendment_id: int, action: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(" ".join(form.reason.errors) or "Give a reason.", "danger")
        return _to(amendment_id)
    try:
        amendment = CLOSES[action](
            current_user,
            amendment_id,
            reason=form.reason.data,
            request=request_info(),
            expected_version=version_of(form),
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash(f"{AMENDMENT.state(amendment.state).label}.", "info")
    return _to(amendment_id)


@bp.route("/amendments/<int:amendment_id>/sign", methods=["GET", "POST"])
@login_required
def sign(amendment_id: int):
    try:
        view = amendments.signing_view(current_user, amendment_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = SignForm(lock_version=view.amendment.lock_version)
    if view.may_sign and form.validate_on_submit():
        act = (
            amendments.countersign
            if view.event == "lead_countersigns"
            else amendments.sign_as_agency
        )
        try:
            act(
                current_user,
                amendment_id,
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
            return _to(amendment_id)
    if request.method == "GET" and view.may_sign:
        signature_followup.opened(current_user, AMENDMENT.name, amendment_id)  # first view
    return render_template(
        "amendments/sign.html",
        view=view,
        amendment=view.amendment,
        form=form,
        machine=AMENDMENT,
        reason_form=ReasonForm(lock_version=view.amendment.lock_version),
        expiry=signature_followup.expiry(AMENDMENT.name, view.amendment),
    )

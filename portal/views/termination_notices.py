"""Thirty days' notice of termination (VIII.B.1): give it, follow it, rescind it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.agreements import ReasonForm
from forms.remedies import TerminationNoticeForm
from portal.services import notice_steps, terminations
from portal.services.errors import ServiceError
from portal.views import pictures
from portal.views.common import refuse, request_info
from portal.views.giving import give_page
from workflows.termination_notice import TERMINATION_NOTICE

bp = Blueprint("termination_notices", __name__, url_prefix="/notices/termination")


@bp.route("/give/<int:agreement_id>", methods=["GET", "POST"])
@login_required
def give(agreement_id: int):
    def given(form):
        return terminations.give(
            current_user,
            agreement_id,
            reason=form.reason.data or "",
            password=form.password.data,
            intent=form.intent.data,
            consent=form.consent.data,
            request=request_info(),
            form_key=form.form_key.data,
        )

    return give_page(
        agreement_id,
        what=notice_steps.TERMINATION,
        title="Notice of termination",
        form=lambda agreement: (TerminationNoticeForm(), {}),
        give=given,
        template="notices/give_termination.html",
        rule="termination_notice",
        shown="termination_notices.show",
    )


@bp.get("/<int:notice_id>")
@login_required
def show(notice_id: int):
    try:
        notice = terminations.get(current_user, notice_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "notices/termination.html",
        notice=notice,
        machine=TERMINATION_NOTICE,
        steps=notice_steps.termination_notice(notice, current_user),
        period=notice_steps.notice_period(notice),
        parties=notice_steps.parties(notice),
        **pictures.history_and_diagram(TERMINATION_NOTICE, notice.id, notice.state),
        reason_form=ReasonForm(),
    )


@bp.post("/<int:notice_id>/rescind")
@login_required
def rescind(notice_id: int):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give a reason.", "danger")
        return redirect(url_for("termination_notices.show", notice_id=notice_id))
    try:
        terminations.rescind(
            current_user, notice_id, reason=form.reason.data, request=request_info()
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash("Notice rescinded; the agreement stays in effect.", "info")
    return redirect(url_for("termination_notices.show", notice_id=notice_id))

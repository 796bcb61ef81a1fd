"""Notices of default (VIII.B.3): give one, follow the cure period, cure, decide, declare."""

from __future__ import annotations

from io import BytesIO
from itertools import groupby

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from forms.agreements import ActionForm, ReasonForm
from forms.remedies import CureForm, DeclarationForm, DefaultNoticeForm
from portal.models.remedies import DefaultNotice
from portal.services import cures, default_notices, notice_steps
from portal.services.errors import ServiceError
from portal.views import pictures
from portal.views.common import refuse, request_info
from portal.views.giving import give_page
from workflows.default_notice import DEFAULT_NOTICE

bp = Blueprint("default_notices", __name__, url_prefix="/notices/default")


@bp.route("/give/<int:agreement_id>", methods=["GET", "POST"])
@login_required
def give(agreement_id: int):
    def form(agreement):
        provisions = default_notices.provisions_of(agreement)
        the_form = DefaultNoticeForm()
        the_form.provisions.choices = [(citation, title) for citation, title in provisions]
        articles = [(a, list(items)) for a, items in groupby(provisions, key=_article)]
        return the_form, {"articles": articles}

    def given(the_form):
        return default_notices.give(
            current_user,
            agreement_id,
            provisions=the_form.provisions.data,
            description=the_form.description.data,
            cure_required=the_form.cure_required.data,
            password=the_form.password.data,
            intent=the_form.intent.data,
            consent=the_form.consent.data,
            request=request_info(),
            form_key=the_form.form_key.data,
        )

    return give_page(
        agreement_id,
        what=notice_steps.DEFAULT,
        title="Notice of default",
        form=form,
        give=given,
        template="notices/give_default.html",
        rule="cure_period",
        shown="default_notices.show",
    )


def _article(provision: tuple[str, str]) -> str:
    return provision[0].split(".")[0]


@bp.get("/<int:notice_id>")
@login_required
def show(notice_id: int):
    try:
        notice = default_notices.get(current_user, notice_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return _page(notice, CureForm())


def _page(notice: DefaultNotice, cure_form: CureForm):
    return render_template(
        "notices/default.html",
        notice=notice,
        machine=DEFAULT_NOTICE,
        steps=notice_steps.default_notice(notice, current_user),
        period=notice_steps.cure_period(notice),
        parties=notice_steps.parties(notice),
        **pictures.history_and_diagram(DEFAULT_NOTICE, notice.id, notice.state),
        cure_form=cure_form,
        action_form=ActionForm(),
        reason_form=ReasonForm(),
    )


@bp.post("/<int:notice_id>/cure")
@login_required
def cure(notice_id: int):
    try:
        notice = default_notices.get(current_user, notice_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = CureForm()
    if form.validate_on_submit():
        uploads = [
            cures.Upload(f.filename or "", f.read())
            for f in form.files.data or []
            if f and f.filename
        ]
        try:
            cures.submit_cure(
                current_user,
                notice_id,
                text=form.text.data,
                uploads=uploads,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Cure submitted. The party that gave the notice has been told.", "success")
            return redirect(url_for("default_notices.show", notice_id=notice_id))
    # Shown again with what was typed, so a refused attachment does not cost the text.
    return _page(notice, form), 400


@bp.post("/<int:notice_id>/<any(accept, reject, withdraw, waive):action>")
@login_required
def decide(notice_id: int, action: str):
    form = ActionForm() if action == "accept" else ReasonForm()
    if not form.validate_on_submit():
        flash("Give a reason.", "danger")
        return redirect(url_for("default_notices.show", notice_id=notice_id))
    try:
        if action == "accept":
            cures.accept_cure(current_user, notice_id, request=request_info())
        else:
            act = {
                "reject": cures.reject_cure,
                "withdraw": default_notices.withdraw,
                "waive": default_notices.waive,
            }[action]
            act(current_user, notice_id, reason=form.reason.data, request=request_info())
    except ServiceError as err:
        refuse(err)
    else:
        flash(_DONE[action], "success" if action == "accept" else "info")
    return redirect(url_for("default_notices.show", notice_id=notice_id))


_DONE = {
    "accept": "Cure accepted: the default is closed and the agreement continues.",
    "reject": "Cure rejected; the defaulting party has been told why. The cure period runs on.",
    "withdraw": "Notice withdrawn.",
    "waive": "Default waived; the agreement continues.",
}


@bp.route("/<int:notice_id>/declare", methods=["GET", "POST"])
@login_required
def declare(notice_id: int):
    try:
        notice = default_notices.get(current_user, notice_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = DeclarationForm()
    if form.validate_on_submit():
        try:
            declared = default_notices.declare_termination(
                current_user,
                notice_id,
                password=form.password.data,
                intent=form.intent.data,
                consent=form.consent.data,
                request=request_info(),
                form_key=form.form_key.data,
            )
        except ServiceError as err:
            refuse(err)
        else:
            if declared.already_given:  # the same form sent again
                flash(
                    "The agreement was already declared terminated with this form; nothing "
                    "was signed or sent again.",
                    "info",
                )
            else:
                flash("Declared: the agreement is terminated.", "success")
            return redirect(url_for("default_notices.show", notice_id=notice_id))
    steps = default_notices.options(notice, current_user) + default_notices.not_now(
        notice, current_user
    )
    declaring = next((o for o in steps if o.event == "declare_termination"), None)
    return render_template(
        "notices/declare.html",
        notice=notice,
        form=form,
        option=declaring,
        machine=DEFAULT_NOTICE,
    )


@bp.get("/<int:notice_id>/cures/<int:cure_id>/files/<int:index>")
@login_required
def attachment(notice_id: int, cure_id: int, index: int):
    try:
        found = cures.read_attachment(current_user, notice_id, cure_id, index)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("default_notices.show", notice_id=notice_id))
    response = send_file(
        BytesIO(found.data),
        mimetype=found.content_type,
        as_attachment=True,  # evidence is saved and opened locally, never run in the page
        download_name=found.filename,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

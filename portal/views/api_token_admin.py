"""Everyone's API tokens, for the lead agency's HMIS admins: the list, and revoking one with a
reason. The service checks who may; these views only read the form and show the outcome."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.agreements import ReasonForm
from portal.services import api_token_admin
from portal.services.api_tokens import SCOPES
from portal.services.errors import ServiceError
from portal.views.common import cursor_args, refuse, request_info

bp = Blueprint("api_token_admin", __name__, url_prefix="/admin/api-tokens")


@bp.get("")
@login_required
def index():
    try:
        page = api_token_admin.tokens(current_user, **cursor_args())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "api_tokens/admin.html",
        page=page,
        scopes=SCOPES,
        form=ReasonForm(),
        reason_len=api_token_admin.REASON_LEN,
    )


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    try:
        api_token_admin.check(current_user)  # before the form: refused people learn nothing
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give the reason for revoking the token (the form may have expired).", "danger")
        return redirect(url_for("api_token_admin.index"))
    try:
        done = api_token_admin.revoke(
            current_user, token_id, reason=form.reason.data, request=request_info()
        )
    except ServiceError as err:
        refuse(err)
    else:
        whose = f"{done.owner.name}'s token “{done.token.name}”"
        if done.already:
            flash(f"{whose} was already revoked; nothing was changed or sent.", "info")
        else:
            told = " Its owner has been told by e-mail." if done.owner_told else ""
            flash(f"{whose} is revoked: it no longer works.{told}", "info")
    return redirect(url_for("api_token_admin.index"))

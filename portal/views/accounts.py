"""Deactivated portal accounts, and reactivating one (the lead agency's HMIS admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.separations import ReactivateForm
from portal.services import accounts
from portal.services.errors import ServiceError
from portal.views.common import page_arg, refuse, request_info

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


@bp.get("/deactivated")
@login_required
def deactivated():
    try:
        page = accounts.deactivated(current_user, page=page_arg())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "accounts/deactivated.html",
        page=page,
        form=ReactivateForm(),
        refusal=accounts.refusal_to_reactivate,
    )


@bp.post("/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int):
    form = ReactivateForm()
    if not form.validate_on_submit():
        flash("Give the reason for reactivating the account.", "danger")
    else:
        try:
            user = accounts.reactivate(
                current_user, user_id, reason=form.reason.data, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"{user.name}'s account is active again.", "success")
    return redirect(url_for("accounts.deactivated"))

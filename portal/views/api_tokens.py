"""The person's own API tokens: make one (shown once), see them, revoke one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.api_tokens import NewTokenForm, RevokeTokenForm
from portal import clock
from portal.services import api_tokens
from portal.services.errors import ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


def _page(form: NewTokenForm, issued: api_tokens.Issued | None = None, status: int = 200):
    tokens = api_tokens.list_for(current_user)
    now = clock.now()
    return render_template(
        "auth/api_tokens.html",
        form=form,
        revoke_form=RevokeTokenForm(),
        rows=[(t, api_tokens.state(t, now)) for t in tokens],
        scopes=api_tokens.SCOPES,
        issued=issued,
    ), status


@bp.get("")
@login_required
def index():
    return _page(NewTokenForm())


@bp.post("")
@login_required
def create():
    form = NewTokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        issued = api_tokens.create(
            current_user,
            name=form.name.data,
            scope=form.scope.data,
            expires_on=form.expires_on.data,
            request=request_info(),
        )
    except ServiceError as err:
        refuse(err)
        return _page(form, status=400)
    # The secret is in this answer only: it is never stored, so it cannot be shown again.
    return _page(NewTokenForm(formdata=None), issued=issued)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if RevokeTokenForm().validate_on_submit():
        try:
            token = api_tokens.revoke(current_user, token_id, request=request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Token “{token.name}” is revoked: it no longer works.", "info")
    return redirect(url_for("api_tokens.index"))

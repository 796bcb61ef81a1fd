from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from forms.auth import LoginForm, SetPasswordForm
from portal.services import auth
from portal.services.errors import ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only local paths: an open redirect would let a phishing link borrow our domain.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.email.data, form.password.data, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    if current_user.is_authenticated:
        logout_user()
    try:
        invited = auth.invitation_user(token)
    except ServiceError as err:
        return render_template("error.html", title="Invitation", message=err.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = auth.accept_invitation(
                token, form.password.data, form.confirm.data, request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            login_user(user)
            flash("Your password is set.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/set_password.html", form=form, person=invited)

"""Signing in (password, then a two-factor code when the person has one) and out, invitations,
forgotten and changed passwords. What must happen before anything else after sign-in (a
new password once the old one is too old, setting up a required second factor) is kept in
the session and enforced by `_gate` for every page."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from forms.auth import (
    ChangePasswordForm,
    CodeForm,
    ConfirmTwoFactorForm,
    DisableTwoFactorForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    SetPasswordForm,
    StartTwoFactorForm,
)
from portal import clock, sessions
from portal.api import errors as api_errors
from portal.services import auth, password_changes, two_factor, two_factor_policy
from portal.services.errors import ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("auth", __name__)

PENDING = "pending_sign_in"  # a right password, waiting for the second factor
PENDING_FOR = timedelta(minutes=5)
MUST = "must"  # "password" or "two_factor": to do before any other page
# What each requirement still lets the person reach.
OPEN_WHILE = {
    "password": {"auth.change_password"},
    "two_factor": {"auth.security", "auth.two_factor_start", "auth.two_factor_confirm"},
}
ALWAYS_OPEN = {"auth.logout", "health.healthz", ""}


def safe_next(target: str | None) -> str | None:
    """A same-site path to go to after signing in, or None. Only a path starting with one
    "/": no "//" or backslash (another host), and no control characters or spaces, which
    browsers drop ("/\\t/evil.example" becomes "//evil.example") and which cannot go in a
    Location header."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    return target


def _next_page() -> str:
    return safe_next(request.args.get("next")) or url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            attempt = auth.authenticate(form.email.data, form.password.data, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            if attempt.needs_code:
                sessions.rotate(session)
                session[PENDING] = {
                    "user": attempt.user.id,
                    "until": (clock.now() + PENDING_FOR).timestamp(),
                    "next": _next_page(),
                }
                return redirect(url_for("auth.second_factor"))
            return signed_in(attempt.user, _next_page())
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    pending = session.get(PENDING)
    if not pending or pending.get("until", 0) < clock.now().timestamp():
        session.pop(PENDING, None)
        flash("Sign in again: the sign-in waited too long for the code.", "warning")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = auth.verify_second_factor(pending["user"], form.code.data, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            session.pop(PENDING, None)
            return signed_in(user, safe_next(pending.get("next")) or url_for("home.index"))
    return render_template("auth/code.html", form=form)


def signed_in(user, target: str):
    """Signs the person in on a new session id; sends them to what they must do first."""
    login_user(user)
    sessions.rotate(session)
    return _after(user, target)


def _after(user, target: str):
    if auth.password_expired(user):
        session[MUST] = "password"
        flash("Your password is too old. Choose a new one to continue.", "warning")
        return redirect(url_for("auth.change_password"))
    if two_factor_policy.required_for(user) and not two_factor.is_enabled(user):
        session[MUST] = "two_factor"
        flash("Your role requires two-factor sign-in. Set it up to continue.", "warning")
        return redirect(url_for("auth.security"))
    session.pop(MUST, None)
    return redirect(target)


@bp.before_app_request
def _gate():
    must = session.get(MUST)
    endpoint = request.endpoint or ""
    if not must or endpoint in ALWAYS_OPEN | OPEN_WHILE.get(must, set()):
        return None
    if endpoint == "static" or endpoint.endswith(".static"):  # the pages' own CSS and JS
        return None
    if not current_user.is_authenticated:
        session.pop(MUST, None)
        return None
    if request.path.startswith("/api/"):
        return api_errors.error_response(403, "sign_in_incomplete", "Finish signing in first.")
    return redirect(url_for("auth.change_password" if must == "password" else "auth.security"))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        auth.log_out(current_user, request_info())
    logout_user()
    session.clear()
    sessions.rotate(session)
    flash("You are logged out.", "info")
    return redirect(safe_next(request.args.get("next")) or url_for("auth.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return password_from_link(
        token,
        auth.accept_invitation,
        template="auth/set_password.html",
        welcome="Your password is set.",
        target=lambda user: _next_page(),
    )


def password_from_link(token: str, accept, *, template: str, welcome: str, target):
    """A first password set from an invitation link (`accept` is the service that redeems
    it), then a new session for the person, sent to `target(user)`."""
    if current_user.is_authenticated:
        return signed_in_as_someone(request.path)
    try:
        invited = auth.invitation_user(token)
    except ServiceError as err:
        return render_template("error.html", title="Invitation", message=err.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accept(token, form.password.data, form.confirm.data, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash(welcome, "success")
            return signed_in(user, target(user))
    return render_template(template, form=form, person=invited)


def signed_in_as_someone(path: str):
    """An invitation or reset link opened while someone is signed in: it does not sign them
    out (a link in an e-mail must not end a session); they may log out to use it."""
    return render_template("auth/signed_in.html", form=LogoutForm(), person=current_user, path=path)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        answer = password_changes.request_reset(form.email.data, request_info())
        flash(answer, "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route(f"{password_changes.RESET_PATH}/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if current_user.is_authenticated:
        return signed_in_as_someone(request.path)
    try:
        person = password_changes.reset_user(token)
    except ServiceError as err:
        return render_template("error.html", title="Password reset", message=err.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            password_changes.reset(token, form.password.data, form.confirm.data, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash("Your new password is set. Log in with it.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, person=person, reset=True)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = password_changes.change(
                current_user,
                form.current.data,
                form.password.data,
                form.confirm.data,
                keep_session=getattr(session, "sid", None),
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Your password is changed. Your other sessions have ended.", "success")
            return _after(user, url_for("auth.security"))
    expired = session.get(MUST) == "password"
    return render_template("auth/change_password.html", form=form, expired=expired)


@bp.get("/account/security")
@login_required
def security():
    return _security_page()


def _security_page(**extra):
    return render_template(
        "auth/security.html",
        enabled=two_factor.is_enabled(current_user),
        required=two_factor_policy.required_for(current_user),
        pending=two_factor.pending(current_user),
        codes_left=two_factor.unused_recovery_codes(current_user),
        start_form=StartTwoFactorForm(),
        confirm_form=ConfirmTwoFactorForm(),
        disable_form=DisableTwoFactorForm(),
        must=session.get(MUST),
        **extra,
    )


@bp.post("/account/two-factor/start")
@login_required
def two_factor_start():
    if StartTwoFactorForm().validate_on_submit():
        try:
            two_factor.begin(current_user)
        except ServiceError as err:
            refuse(err)
    return redirect(url_for("auth.security"))


@bp.post("/account/two-factor/confirm")
@login_required
def two_factor_confirm():
    form = ConfirmTwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm(current_user, form.code.data, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            if session.get(MUST) == "two_factor":
                session.pop(MUST, None)
            flash("Two-factor sign-in is on.", "success")
            # Shown once, in this answer: only their hashes are kept.
            return render_template("auth/recovery_codes.html", codes=codes)
    return redirect(url_for("auth.security"))


@bp.post("/account/two-factor/disable")
@login_required
def two_factor_disable():
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            two_factor.disable(current_user, form.password.data, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash("Two-factor sign-in is off.", "info")
            if two_factor_policy.required_for(current_user):
                session[MUST] = "two_factor"
    return redirect(url_for("auth.security"))

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from forms.common import MaxLength
from portal.models import User

NEW_PASSWORD_HELP = (
    "At least 12 characters. Not a common password, and not built on your name, e-mail or "
    "agency. A few unrelated words make a good one."
)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), MaxLength(User.__table__.c.email)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    submit = SubmitField("Log in")


def _new_password() -> PasswordField:
    return PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=12, max=256)],
        description=NEW_PASSWORD_HELP,
        render_kw={"autocomplete": "new-password"},
    )


def _repeat() -> PasswordField:
    return PasswordField(
        "Repeat the password",
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class SetPasswordForm(FlaskForm):
    password = _new_password()
    confirm = _repeat()
    submit = SubmitField("Set password")


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    password = _new_password()
    confirm = _repeat()
    submit = SubmitField("Change password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), MaxLength(User.__table__.c.email)])
    submit = SubmitField("E-mail me a link")


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=40)],
        description="The 6 digits your authenticator app shows, or one of your recovery codes.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )
    submit = SubmitField("Continue")


class ConfirmTwoFactorForm(FlaskForm):
    code = StringField(
        "Code from the app",
        validators=[DataRequired(), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField("Turn on two-factor sign-in")


class StartTwoFactorForm(FlaskForm):
    submit = SubmitField("Set up two-factor sign-in")


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(
        "Your password",
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Turn off two-factor sign-in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Log out")

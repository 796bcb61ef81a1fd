"""Forms of the onboarding pages: the new user's signature, the agency's approval, and the
plain buttons (a new invitation, a certificate of participation) that only carry CSRF."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from forms.common import ConsentField, MaxLength


class ButtonForm(FlaskForm):
    """A button that changes a case; only its CSRF token is checked."""

    submit = SubmitField("Go")


class _SignatureForm(FlaskForm):
    consent = ConsentField()
    password = PasswordField("Re-enter your password", validators=[DataRequired(), Length(max=256)])


class SignUserAgreementForm(_SignatureForm):
    intent = BooleanField(
        "I have read the HMIS User Agreement and I intend to sign it.",
        validators=[DataRequired(message="Confirm that you intend to sign.")],
    )
    submit = SubmitField("Sign the HMIS User Agreement")


class ApproveUserAgreementForm(_SignatureForm):
    intent = BooleanField(
        "I have read the signed HMIS User Agreement and I approve it for the agency.",
        validators=[DataRequired(message="Confirm that you intend to approve it.")],
    )
    submit = SubmitField("Approve the user agreement")


class ReopenTrainingForm(FlaskForm):
    reason = TextAreaField(
        "Why the training window is reopened", validators=[DataRequired(), MaxLength(2000)]
    )
    submit = SubmitField("Reopen the training window")

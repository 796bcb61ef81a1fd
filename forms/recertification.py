"""Forms of the recertification and self-assessment pages: opening the year's campaign, the
renewed user agreement's signature and approval, closing a recertification, and signing the
security self-assessment. The self-assessment's answers are read from the request by the
service (one yes/no and a comment per question), under this form's CSRF check."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from forms.common import ConsentField, MaxLength


class OpenCampaignForm(FlaskForm):
    year = IntegerField(
        "Year", validators=[DataRequired(message="Give the year."), NumberRange(2000, 2100)]
    )
    submit = SubmitField("Open the campaign")


class _SignatureForm(FlaskForm):
    consent = ConsentField()
    password = PasswordField("Re-enter your password", validators=[DataRequired(), Length(max=256)])


class SignRenewalForm(_SignatureForm):
    intent = BooleanField(
        "I have read the renewed HMIS User Agreement and I intend to sign it.",
        validators=[DataRequired(message="Confirm that you intend to sign.")],
    )
    submit = SubmitField("Sign the renewed user agreement")


class ApproveRenewalForm(_SignatureForm):
    intent = BooleanField(
        "I have read the signed renewed HMIS User Agreement and I approve it for the agency.",
        validators=[DataRequired(message="Confirm that you intend to approve it.")],
    )
    submit = SubmitField("Approve the renewed user agreement")


class CloseForm(FlaskForm):
    reason = TextAreaField(
        "Why the recertification is closed", validators=[DataRequired(), MaxLength(2000)]
    )
    submit = SubmitField("Close the recertification")


class AnswersForm(FlaskForm):
    submit = SubmitField("Save the answers")


class SignAssessmentForm(_SignatureForm):
    intent = BooleanField(
        "These answers are true to the best of my knowledge and I intend to sign them.",
        validators=[DataRequired(message="Confirm that you intend to sign.")],
    )
    submit = SubmitField("Sign the self-assessment")


class ButtonForm(FlaskForm):
    submit = SubmitField("Go")

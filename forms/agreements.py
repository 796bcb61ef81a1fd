from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from forms.common import ConsentField, MaxLength
from portal.models import AgreementTemplate

TEMPLATE = AgreementTemplate.__table__.c


class ActionForm(FlaskForm):
    """A button that changes a case; the version guards against acting on a stale page."""

    lock_version = HiddenField()
    submit = SubmitField("Go")


class ReasonForm(ActionForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), MaxLength(4000)])


class SignForm(ActionForm):
    consent = ConsentField()
    intent = BooleanField(
        "I have read this document and I intend to sign it.",
        validators=[DataRequired(message="Confirm that you intend to sign.")],
    )
    password = PasswordField("Re-enter your password", validators=[DataRequired(), Length(max=256)])


class TemplateForm(FlaskForm):
    version = StringField("Version", validators=[DataRequired(), MaxLength(TEMPLATE.version)])
    revised_date = StringField(
        "Revised date (as printed)", validators=[DataRequired(), MaxLength(TEMPLATE.revised_date)]
    )
    title = StringField("Title", validators=[DataRequired(), MaxLength(TEMPLATE.title)])
    body = TextAreaField("Text", validators=[DataRequired(), MaxLength(200_000)])
    notes = TextAreaField("Notes", validators=[Optional(), MaxLength(2000)])
    submit = SubmitField("Publish version")

"""Forms for programs, reallocations and their hand-over, agency closure and site visits."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from forms.agreements import SignForm
from forms.common import FormKeyField, MaxLength


class ProgramForm(FlaskForm):
    name = StringField("Program name", validators=[DataRequired(), MaxLength(200)])
    funding_source = StringField("Funding source", validators=[DataRequired(), MaxLength(200)])
    hud_grant_number = StringField("HUD grant number", validators=[Optional(), MaxLength(60)])
    start_date = DateField(
        "Start date", validators=[DataRequired(message="Give the start date as a date.")]
    )
    submit = SubmitField("Save the program")


class GrantTerminatedForm(FlaskForm):
    reason = TextAreaField(
        "Why the grant was terminated", validators=[DataRequired(), MaxLength(2000)]
    )
    submit = SubmitField("Record that the grant was terminated")


class ReallocateForm(FlaskForm):
    acquiring_agency = SelectField("Agency that acquires the program", validators=[DataRequired()])
    reason = TextAreaField("Reason (optional)", validators=[Optional(), MaxLength(4000)])
    submit = SubmitField("Reallocate the program")


class DeliveryForm(FlaskForm):
    count = IntegerField(
        "Number of signed consent and release-of-information forms",
        validators=[DataRequired(message="Give the number of forms as a whole number.")],
    )
    method = SelectField("How they were delivered", validators=[DataRequired()])
    delivered_on = DateField(
        "Date delivered", validators=[DataRequired(message="Give the date as a date.")]
    )
    note = TextAreaField(
        "Note (optional, no client information)", validators=[Optional(), MaxLength(2000)]
    )
    attachment = FileField("Transmittal or delivery slip (optional PDF, 10 MB at most)")
    submit = SubmitField("Record the delivery")


class ReceiptForm(FlaskForm):
    submit = SubmitField("We received the forms")


class ReceiptSignForm(SignForm):
    submit = SubmitField("Sign the hand-over receipt")


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), MaxLength(2000)])
    submit = SubmitField("Cancel")


class CloseAgencyForm(FlaskForm):
    reason = TextAreaField(
        "Why the agency ceased to operate", validators=[DataRequired(), MaxLength(4000)]
    )
    submit = SubmitField("Record that the agency ceased to operate")


class VisitForm(FlaskForm):
    visit_at = DateTimeLocalField(
        "Date and time",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message="Give the date and time of the visit.")],
    )
    visitors = StringField("Who visits", validators=[DataRequired(), MaxLength(1000)])
    submit = SubmitField("Schedule the visit")


class VisitStepForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[Optional(), MaxLength(2000)])
    submit = SubmitField("Go")


class FindingForm(FlaskForm):
    kind = SelectField(
        "Result", choices=[("compliant", "Compliant"), ("finding", "Finding (not compliant)")]
    )
    text = TextAreaField("What was found", validators=[DataRequired(), MaxLength(10_000)])
    submit = SubmitField("Add to the findings")


class FindingNoticeForm(SignForm):
    provisions = SelectMultipleField("Provisions breached", validators=[DataRequired()])
    description = TextAreaField(
        "Description of the default", validators=[DataRequired(), MaxLength(20_000)]
    )
    cure_required = TextAreaField(
        "What would cure it", validators=[DataRequired(), MaxLength(20_000)]
    )
    form_key = FormKeyField()  # sent twice, it gives one notice
    submit = SubmitField("Sign and give the notice of default")

"""Forms for the agreement's remedies: notices, cures, suspensions, holidays, the calculator."""

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forms.common import ConsentField, FormKeyField, MaxLength
from portal.models import Holiday


class DefaultNoticeForm(FlaskForm):
    # Choices are the agreement's own provisions, set by the view from the template.
    provisions = SelectMultipleField(
        "Provisions breached",
        validators=[DataRequired(message="Choose at least one provision that was breached.")],
    )
    description = TextAreaField(
        "Describe the default", validators=[DataRequired(), MaxLength(20_000)]
    )
    cure_required = TextAreaField(
        "What would cure it", validators=[DataRequired(), MaxLength(20_000)]
    )
    consent = ConsentField()
    intent = BooleanField(
        "I intend to sign this notice of default.",
        validators=[DataRequired(message="Confirm that you intend to sign.")],
    )
    password = PasswordField("Re-enter your password", validators=[DataRequired(), Length(max=256)])
    form_key = FormKeyField()  # sent twice, it gives one notice
    submit = SubmitField("Sign and give notice of default")


class CureForm(FlaskForm):
    text = TextAreaField(
        "What was done to cure the default", validators=[DataRequired(), MaxLength(20_000)]
    )
    # Kinds are checked by content in the service, which says plainly what it refuses.
    files = MultipleFileField("Attachments (PDF, PNG, JPEG or plain text; optional)")
    submit = SubmitField("Submit the cure")


class DeclarationForm(FlaskForm):
    consent = ConsentField()
    intent = BooleanField(
        "I intend to sign this declaration; the agreement ends at once.",
        validators=[DataRequired(message="Confirm that you intend to sign.")],
    )
    password = PasswordField("Re-enter your password", validators=[DataRequired(), Length(max=256)])
    form_key = FormKeyField()
    submit = SubmitField("Sign and declare the agreement terminated")


class TerminationNoticeForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", validators=[Optional(), MaxLength(20_000)])
    consent = ConsentField()
    intent = BooleanField(
        "I intend to sign this notice of termination.",
        validators=[DataRequired(message="Confirm that you intend to sign.")],
    )
    password = PasswordField("Re-enter your password", validators=[DataRequired(), Length(max=256)])
    form_key = FormKeyField()
    submit = SubmitField("Sign and give 30 days' notice")


class SuspendForm(FlaskForm):
    # "" suspends the whole agency; otherwise a person's id (choices set by the view).
    person = SelectField("Whose access", validate_choice=True)
    reason = TextAreaField(
        "Reason (the suspected breach under investigation)",
        validators=[DataRequired(), MaxLength(4000)],
    )
    form_key = FormKeyField()  # sent twice, it suspends once
    submit = SubmitField("Suspend access")


class HolidayForm(FlaskForm):
    day = DateField("Day", validators=[InputRequired(message="Give the day.")])
    name = StringField("Name", validators=[DataRequired(), MaxLength(Holiday.__table__.c.name)])
    submit = SubmitField("Add holiday")


class CalculatorForm(FlaskForm):
    """A GET form (no CSRF: it changes nothing), so it works from a bookmark and without JS."""

    class Meta:
        csrf = False

    given_on = DateField("Notice given on", validators=[InputRequired(message="Give a date.")])
    days = IntegerField(
        "Number of days",
        default=10,
        validators=[
            InputRequired(message="Give the number of days."),
            NumberRange(min=1, max=3650, message="Between 1 and 3650 days."),
        ],
    )
    business_days = BooleanField("Count business days (Monday–Friday except holidays)")
    roll = BooleanField("If the last day is a weekend or holiday, roll to the next business day")
    submit = SubmitField("Calculate")

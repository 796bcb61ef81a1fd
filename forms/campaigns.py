"""The forms that start a re-signing campaign and close one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from forms.common import FormKeyField, MaxLength


class NewCampaignForm(FlaskForm):
    # The version is chosen on the page above the form (it decides which agencies are
    # listed); the form sends it back as it was shown.
    template_id = HiddenField()
    due_on = DateField(
        "Last day to sign",
        validators=[DataRequired(message="Give the last day to sign, as YYYY-MM-DD.")],
        description="Requests still unsigned expire at the end of this day, in the lead "
        "agency's time zone.",
    )
    # Every eligible agency, all checked by default; the page lists them as checkboxes.
    agency_ids = SelectMultipleField("Agencies", coerce=int, validate_choice=False)
    note = TextAreaField(
        "Note (optional)",
        validators=[Optional(), MaxLength(4000)],
        description="For the record: why the agreement changed, what is new.",
    )
    form_key = FormKeyField()  # sent twice, it starts one campaign
    submit = SubmitField("Start the campaign and send the agreements")


class CloseCampaignForm(FlaskForm):
    lock_version = HiddenField()
    reason = TextAreaField("Reason", validators=[DataRequired(), MaxLength(4000)])
    submit = SubmitField("Close the campaign")

"""Forms for separations, HMIS deactivations, the HMIS export and reactivating accounts."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from forms.common import MaxLength


class SeparationForm(FlaskForm):
    person = SelectField("Who left", validators=[DataRequired(message="Choose who left.")])
    last_day = DateField(
        "Their last day", validators=[DataRequired(message="Give their last day as a date.")]
    )
    note = TextAreaField("Note (optional)", validators=[Optional(), MaxLength(4000)])
    submit = SubmitField("Report the separation and end their access")


class HmisDeactivatedForm(FlaskForm):
    lock_version = HiddenField()
    submit = SubmitField("I deactivated it in the HMIS")


class ExportForm(FlaskForm):
    export = FileField(
        "HMIS user export (CSV)", validators=[FileRequired("Choose the export's CSV file.")]
    )
    submit = SubmitField("Reconcile")


class ReactivateForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), MaxLength(2000)])
    submit = SubmitField("Reactivate")

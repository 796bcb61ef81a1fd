from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from forms.common import MaxLength
from portal.models import AccessRequest, User

REQUEST = AccessRequest.__table__.c


class AccessRequestForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), MaxLength(REQUEST.name)])
    email = EmailField("E-mail", validators=[DataRequired(), MaxLength(REQUEST.email)])
    job_title = StringField("Job title", validators=[DataRequired(), MaxLength(REQUEST.job_title)])
    hmis_role = SelectField("Requested HMIS role", validators=[DataRequired()])
    programs = TextAreaField(
        "Programs the person will enter data for",
        validators=[DataRequired(), MaxLength(2000)],
        description="One per line, as the agency names them.",
    )
    submit = SubmitField("Request HMIS access")


class IssueForm(FlaskForm):
    lock_version = HiddenField()
    hmis_user_id = StringField(
        "HMIS user id", validators=[DataRequired(), MaxLength(REQUEST.hmis_user_id)]
    )
    issued_on = DateField("Issued on", validators=[DataRequired()])
    submit = SubmitField("Issue the HMIS account")


class WithdrawForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), MaxLength(2000)])
    submit = SubmitField("Withdraw the request")


class SecurityOfficerForm(FlaskForm):
    email = EmailField(
        "E-mail of the person to designate",
        validators=[DataRequired(), MaxLength(User.__table__.c.email)],
        description="They must already have a portal account at this agency.",
    )
    submit = SubmitField("Designate security officer")


class FeeForm(FlaskForm):
    year = IntegerField("Year", validators=[DataRequired(), NumberRange(2000, 2100)])
    amount = StringField("Fee (dollars)", validators=[DataRequired(), MaxLength(20)])
    waived = BooleanField("Waived")
    paid_on = DateField("Paid on", validators=[Optional()])
    note = TextAreaField("Note", validators=[Optional(), MaxLength(2000)])
    submit = SubmitField("Record fee")

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired

from forms.common import MaxLength
from portal.models import Agency, User
from portal.services.agencies import ADDRESS_LEN, DESIGNATION_REASON_LEN

# Each limit is the one the record holds (and the service checks): the model column's length.
LEGAL_NAME = MaxLength(Agency.__table__.c.legal_name)
PERSON_NAME = MaxLength(User.__table__.c.name)
PERSON_TITLE = MaxLength(User.__table__.c.title)
EMAIL = MaxLength(User.__table__.c.email)


class AgencyForm(FlaskForm):
    legal_name = StringField("Legal name", validators=[DataRequired(), LEGAL_NAME])
    address = TextAreaField("Address", validators=[DataRequired(), MaxLength(ADDRESS_LEN)])
    vawa_provider = BooleanField(
        "This agency is a victim service provider covered by the Violence Against Women Act (VAWA)"
    )
    ed_name = StringField("Executive director's name", validators=[DataRequired(), PERSON_NAME])
    ed_title = StringField("Executive director's title", validators=[DataRequired(), PERSON_TITLE])
    ed_email = EmailField("Executive director's e-mail", validators=[DataRequired(), EMAIL])
    so_name = StringField("Security officer's name", validators=[DataRequired(), PERSON_NAME])
    so_title = StringField("Security officer's title", validators=[DataRequired(), PERSON_TITLE])
    so_email = EmailField("Security officer's e-mail", validators=[DataRequired(), EMAIL])
    submit = SubmitField("Register agency")


class DesignateForm(FlaskForm):
    name = StringField("Representative's name", validators=[DataRequired(), PERSON_NAME])
    title = StringField("Representative's title", validators=[DataRequired(), PERSON_TITLE])
    email = EmailField("Representative's e-mail", validators=[DataRequired(), EMAIL])
    reason = TextAreaField(
        "Why the lead agency designates this person",
        validators=[DataRequired(), MaxLength(DESIGNATION_REASON_LEN)],
    )
    submit = SubmitField("Designate signer")

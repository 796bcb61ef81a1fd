from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class AgencyForm(FlaskForm):
    legal_name = StringField("Legal name", validators=[DataRequired(), Length(max=200)])
    address = TextAreaField("Address", validators=[DataRequired(), Length(max=1000)])
    vawa_provider = BooleanField(
        "This agency is a victim service provider covered by the Violence Against Women Act (VAWA)"
    )
    ed_name = StringField("Executive director's name", validators=[DataRequired(), Length(max=200)])
    ed_title = StringField(
        "Executive director's title", validators=[DataRequired(), Length(max=200)]
    )
    ed_email = EmailField(
        "Executive director's e-mail", validators=[DataRequired(), Length(max=254)]
    )
    so_name = StringField("Security officer's name", validators=[DataRequired(), Length(max=200)])
    so_title = StringField("Security officer's title", validators=[DataRequired(), Length(max=200)])
    so_email = EmailField("Security officer's e-mail", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Register agency")


class DesignateForm(FlaskForm):
    name = StringField("Representative's name", validators=[DataRequired(), Length(max=200)])
    title = StringField("Representative's title", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Representative's e-mail", validators=[DataRequired(), Length(max=254)])
    reason = TextAreaField(
        "Why the lead agency designates this person", validators=[DataRequired(), Length(max=2000)]
    )
    submit = SubmitField("Designate signer")

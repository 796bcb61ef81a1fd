from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from forms.common import MaxLength
from portal.models import User


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), MaxLength(User.__table__.c.email)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    submit = SubmitField("Log in")


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=12, max=256)])
    confirm = PasswordField("Repeat the password", validators=[DataRequired(), Length(max=256)])
    submit = SubmitField("Set password")

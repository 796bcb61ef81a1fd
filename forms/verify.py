from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField


class VerifyForm(FlaskForm):
    pdf = FileField("PDF file", validators=[FileRequired("Choose a PDF file to check.")])
    submit = SubmitField("Check signatures")

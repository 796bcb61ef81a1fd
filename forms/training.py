"""Forms for courses, question banks, sessions, tests and recorded scores."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from forms.common import MaxLength
from portal.models import Course, User
from portal.services.training_admin import CHOICE_MAX, MAX_CHOICES, QUESTION_MAX


class ButtonForm(FlaskForm):
    """A button that changes something: only the CSRF token (the test's answers, the
    attendance marks are read from the posted radio buttons by name)."""

    submit = SubmitField("Go")


def _number(label: str, low: int, high: int) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(message=f"Give {label.lower()}."),
            NumberRange(min=low, max=high, message=f"From {low} to {high}."),
        ],
        render_kw={"min": low, "max": high},
    )


class CourseForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), MaxLength(Course.__table__.c.title)])
    description = TextAreaField("Description", validators=[Optional(), MaxLength(4000)])
    required = BooleanField("Required of every new user before their account is issued")
    # Choices are the HMIS roles, set by the view ("" = for every role).
    hmis_role = SelectField("Refresher for the HMIS role", validate_choice=True)
    session_required = BooleanField("Attending a session is part of the course")
    pass_mark = _number("Pass mark (percent)", 1, 100)
    questions_per_test = _number("Questions per test", 1, 100)
    max_attempts = _number("Attempts allowed", 1, 20)
    minutes_per_attempt = _number("Minutes per attempt", 5, 480)
    active = BooleanField("Offered (people can take it)", default=True)
    submit = SubmitField("Save the course")


class QuestionForm(FlaskForm):
    text = TextAreaField("Question", validators=[DataRequired(), MaxLength(QUESTION_MAX)])
    choice_1 = StringField("Choice 1", validators=[DataRequired(), MaxLength(CHOICE_MAX)])
    choice_2 = StringField("Choice 2", validators=[DataRequired(), MaxLength(CHOICE_MAX)])
    choice_3 = StringField("Choice 3 (optional)", validators=[Optional(), MaxLength(CHOICE_MAX)])
    choice_4 = StringField("Choice 4 (optional)", validators=[Optional(), MaxLength(CHOICE_MAX)])
    choice_5 = StringField("Choice 5 (optional)", validators=[Optional(), MaxLength(CHOICE_MAX)])
    choice_6 = StringField("Choice 6 (optional)", validators=[Optional(), MaxLength(CHOICE_MAX)])
    correct = RadioField(
        "The correct choice",
        choices=[(str(n), f"Choice {n}") for n in range(1, MAX_CHOICES + 1)],
        validators=[InputRequired(message="Mark the correct choice.")],
    )
    submit = SubmitField("Add the question")

    def choices(self) -> list[str]:
        return [getattr(self, f"choice_{n}").data or "" for n in range(1, MAX_CHOICES + 1)]


class SessionForm(FlaskForm):
    day = DateField("Day", validators=[InputRequired(message="Give the day.")])
    at = TimeField("Starts at (lead agency's local time)", validators=[InputRequired()])
    minutes = _number("Length in minutes", 15, 600)
    mode = RadioField(
        "How",
        choices=[("in_person", "In person"), ("webinar", "Webinar")],
        default="in_person",
        validators=[InputRequired()],
    )
    location = TextAreaField(
        "Address (in person) or webinar link (https://…)",
        validators=[DataRequired(), MaxLength(500)],
    )
    capacity = _number("Seats", 1, 1000)
    submit = SubmitField("Schedule the session")


class EnrolForm(FlaskForm):
    # "" enrols the person themselves; otherwise a person's id (choices set by the view).
    person = SelectField("Whom to enrol", validate_choice=True)
    submit = SubmitField("Enrol")


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Reason (e-mailed to everyone enrolled)", validators=[DataRequired(), MaxLength(2000)]
    )
    submit = SubmitField("Cancel the session")


class RecordScoreForm(FlaskForm):
    email = EmailField(
        "The person's e-mail", validators=[DataRequired(), MaxLength(User.__table__.c.email)]
    )
    score = _number("Score (percent)", 0, 100)
    taken_on = DateField("Taken on", validators=[InputRequired(message="Give the day.")])
    note = TextAreaField(
        "Note (where and how it was taken)", validators=[Optional(), MaxLength(2000)]
    )
    submit = SubmitField("Record the score")

"""The amendment form (VIII.B.2): which sections change, their new text, and why.

The lead agency drafts with it and an agency's executive director proposes with it; the
service decides who may. Its one-time key makes a form sent twice create one amendment.
The buttons on an amendment's page reuse the agreement's forms (forms/agreements.py).
"""

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired

from forms.common import FormKeyField, MaxLength
from portal.models.amendments import Amendment

AMENDMENT = Amendment.__table__.c
# Room for several whole sections of the agreement; the service checks the same limit.
NEW_TEXT_LIMIT = 50_000
REASON_LIMIT = 4000


class AmendmentForm(FlaskForm):
    sections = StringField(
        "Sections that change",
        description="As numbered in the agreement, e.g. “IV.B.8; VIII.B.2”.",
        validators=[
            DataRequired(message="Say which sections change."),
            MaxLength(AMENDMENT.sections),
        ],
    )
    new_text = TextAreaField(
        "New text of those sections",
        description="The sections as they will read once the amendment is in effect.",
        validators=[DataRequired(message="Give the new text."), MaxLength(NEW_TEXT_LIMIT)],
    )
    reason = TextAreaField(
        "Reason for the amendment",
        validators=[DataRequired(message="Give a reason."), MaxLength(REASON_LIMIT)],
    )
    form_key = FormKeyField()  # sent twice, it makes one amendment
    submit = SubmitField("Save")

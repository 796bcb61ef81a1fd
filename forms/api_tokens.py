"""The form that makes a personal API token, and the one that revokes it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, Optional

from forms.common import MaxLength
from portal.models.integrations import ApiToken
from portal.services.api_tokens import SCOPES


class NewTokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), MaxLength(ApiToken.__table__.c.name)],
        description="What the token is for, e.g. “Nightly HMIS sync”.",
    )
    scope = RadioField("May", choices=list(SCOPES.items()), default="read")
    expires_on = DateField(
        "Expires after",
        validators=[Optional()],
        description="Optional: the last day it works. Leave empty for no expiry.",
    )
    submit = SubmitField("Make token")


class RevokeTokenForm(FlaskForm):
    submit = SubmitField("Revoke")

"""Fields and validators several forms share."""

from flask import current_app
from sqlalchemy import Column
from wtforms import BooleanField, HiddenField
from wtforms.validators import Length, ValidationError

from portal.services.errors import ServiceError
from portal.services.form_keys import clean as clean_form_key
from portal.services.form_keys import new_key as new_form_key
from portal.services.validation import max_length, too_long


def consent_text(lead_agency_name: str) -> str:
    return (
        f"I agree to do business electronically with {lead_agency_name} and that my "
        "electronic signature has the same effect as a handwritten one."
    )


class ConsentField(BooleanField):
    """Consent to do business electronically with the lead agency (the LEAD_AGENCY_NAME setting)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.label.text = consent_text(current_app.config["LEAD_AGENCY_NAME"])


class MaxLength(Length):
    """At most `limit` characters: a number, or a model column whose length is the limit.

    Renders as the input's `maxlength`; a longer value is refused with a message naming the
    field, its limit and what was entered (the same words the services use).
    """

    def __init__(self, limit: int | Column):
        super().__init__(max=limit if isinstance(limit, int) else max_length(limit))

    def __call__(self, form, field):
        entered = len(field.data or "")
        if entered > self.max:
            raise ValidationError(too_long(field.label.text, self.max, entered))


def _key_sent(form, field) -> None:
    try:
        clean_form_key(field.data)
    except ServiceError as err:
        raise ValidationError(err.message) from err


class FormKeyField(HiddenField):
    """The form's one-time key (portal.services.form_keys): a new one each time the form is
    rendered afresh, sent back as it was, so that sending the form twice acts once."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, validators=[_key_sent], default=new_form_key, **kwargs)

    def process_formdata(self, valuelist):
        # Sent without a key (a page opened before forms had one): no new key stands in for
        # it, or the form could act twice; the validator asks to reload instead.
        self.data = valuelist[0] if valuelist else ""

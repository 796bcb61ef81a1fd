"""Fields several forms share."""

from flask import current_app
from wtforms import BooleanField


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

"""The HMIS Lead Agency as the portal names it: the LEAD_AGENCY_NAME setting, read here."""

from __future__ import annotations

from flask import current_app


def lead_agency_name() -> str:
    """The lead agency's name for pages, e-mails and documents (never a hard-coded name)."""
    return current_app.config["LEAD_AGENCY_NAME"]

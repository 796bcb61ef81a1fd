"""Jinja filters: instants shown in the lead agency's time zone, roles and states in words."""

from flask import Flask

from portal.models.people import ROLE_LABELS
from portal.services import timefmt


def register(app: Flask) -> None:
    app.add_template_filter(timefmt.local_datetime, "when")
    app.add_template_filter(timefmt.long_date, "long_date")
    app.add_template_filter(lambda role: ROLE_LABELS.get(role, role), "role")

    @app.context_processor
    def lead_name() -> dict:
        return {"lead_agency_name": app.config["LEAD_AGENCY_NAME"]}

"""Jinja filters: instants shown in the lead agency's time zone, roles and states in words."""

from flask import Flask
from flask_login import current_user

from portal.models.people import ROLE_LABELS
from portal.services import next_steps, timefmt
from portal.services.access import is_lead_staff


def register(app: Flask) -> None:
    app.add_template_filter(timefmt.local_datetime, "when")
    app.add_template_filter(timefmt.long_date, "long_date")
    app.add_template_filter(lambda role: ROLE_LABELS.get(role, role), "role")
    # A case's state in words, as its process's machine declares it: {{ agreement|state_label }}
    app.add_template_filter(lambda case: next_steps.state_of(case).label, "state_label")

    @app.context_processor
    def lead_name() -> dict:
        return {"lead_agency_name": app.config["LEAD_AGENCY_NAME"]}

    @app.context_processor
    def staff_pages() -> dict:
        # Whether the navigation offers the lead agency's staff pages (each checks again).
        shown = current_user.is_authenticated and is_lead_staff(current_user)
        return {"staff_pages": bool(shown)}

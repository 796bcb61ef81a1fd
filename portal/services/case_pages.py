"""Where each kind of case is shown: a case type (its machine's name) → its page.

The tracking view, the calendar and the ICS feed link to cases through here. A process
without a page of its own (a suspension) links to its agency's page. A new process with a
page adds one line to `PAGES`.
"""

from __future__ import annotations

from flask import current_app

# case type → (endpoint, the endpoint's id argument)
PAGES: dict[str, tuple[str, str]] = {
    "agency": ("agencies.show", "agency_id"),
    "agreement": ("agreements.show", "agreement_id"),
    "amendment": ("amendments.show", "amendment_id"),
    "default_notice": ("default_notices.show", "notice_id"),
    "termination_notice": ("termination_notices.show", "notice_id"),
    "access_request": ("access_requests.show", "request_id"),
    "onboarding": ("onboarding.show", "onboarding_id"),
    "separation": ("separations.show", "separation_id"),
    "recertification": ("recertification.show", "recertification_id"),
    "self_assessment": ("recertification.assessment", "assessment_id"),
    "reallocation": ("reallocations.show", "reallocation_id"),
    "monitoring_visit": ("site_visits.show", "visit_id"),
    "campaign": ("campaigns.show", "campaign_id"),
}


def case_url(case_type: str, case_id: int, *, agency_id: int | None = None) -> str:
    """The case's page (a path; in or out of a request, for pages and feeds alike); without
    one, its agency's page (given `agency_id`), else the home page."""
    if case_type not in PAGES:
        case_type, case_id = ("agency", agency_id) if agency_id is not None else ("", 0)
    endpoint, arg = PAGES.get(case_type, ("home.index", ""))
    adapter = current_app.url_map.bind("portal")
    return adapter.build(endpoint, {arg: case_id} if arg else {})

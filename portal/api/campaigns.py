"""The API's re-signing campaigns: start one (POST, with an Idempotency-Key, through the same
service as the page) and read one with each agency's progress. Described in
portal/api/openapi_writes.py; the body in portal/api/bodies.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import jsonify
from flask_login import current_user

from portal.api import bodies
from portal.api.bearer import require_login, writer
from portal.api.writes import once
from portal.services import campaign_progress, campaigns
from portal.services.errors import Forbidden
from portal.views.common import request_info
from workflows.campaign import CAMPAIGN

Instant = Callable[[Any], str | None]


def shown(campaign, viewer, instant: Instant) -> dict[str, Any]:
    """The campaign as the API shows it to `viewer` (an agency's people: their row only)."""
    progress = campaign_progress.progress(viewer, campaign)
    return {
        "id": campaign.id,
        "reference": campaign.reference,
        "state": campaign.state,
        "state_label": CAMPAIGN.state(campaign.state).label,
        "template_version": campaign.template.version,
        "due_on": campaign.due_on.isoformat(),
        "deadline_at": instant(progress.due_at),
        "deadline_rule": progress.rule,
        "note": campaign.note,
        "created_at": instant(campaign.created_at),
        "closed_at": instant(campaign.closed_at),
        "closed_reason": campaign.closed_reason,
        "totals": [{"outcome": outcome, "count": count} for outcome, count in progress.totals],
        "agencies": [
            {
                "agency": {"id": row.agency_id, "legal_name": row.agency_name},
                "replaces": (
                    {
                        "id": row.old_id,
                        "reference": row.old_reference,
                        "template_version": row.old_version,
                    }
                    if row.old_id
                    else None
                ),
                "agreement": {
                    "id": row.agreement.id,
                    "reference": row.agreement.reference,
                    "state": row.agreement.state,
                    "state_label": row.state_label,
                },
                "sent_at": instant(row.sent_at),
                "opened_at": instant(row.opened_at),
                "signed_at": instant(row.signed_at),
                "countersigned_at": instant(row.countersigned_at),
                "days_waiting": row.days_waiting,
            }
            for row in progress.rows
        ],
    }


def register(api, *, instant: Instant) -> None:
    """Adds the campaign views to the API blueprint (called once, by portal/api/__init__.py)."""

    @api.post("/campaigns")
    @writer
    def start_campaign():
        def act(data: dict[str, Any]) -> dict[str, Any]:
            if not campaigns.may_manage(current_user):  # before reading what the body names
                raise Forbidden(campaigns.ADMIN_ONLY)
            template_id = campaigns.template_by_version(data.get("template_version"))
            ids = data.get("agency_ids")
            due = data.get("due_on")
            campaign = campaigns.start(
                current_user,
                template_id=template_id,
                agency_ids=None if ids is None else [int(i) for i in ids],
                due_on=None if due is None else date.fromisoformat(due),
                note=data.get("note", ""),
                request=request_info(),
            )
            return shown(campaign, current_user, instant)

        return once(bodies.CAMPAIGN, act)

    @api.get("/campaigns/<int:campaign_id>")
    def get_campaign(campaign_id: int):
        require_login()
        return jsonify(shown(campaigns.get(current_user, campaign_id), current_user, instant))

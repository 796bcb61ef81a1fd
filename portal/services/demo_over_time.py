"""The demo's agreements over time (issue 11): an amendment both parties sign, and a
re-signing campaign on a new template version in which one agency re-signs and the other
lets the request expire. Through the same services the pages call, like the rest of the demo.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from portal import clock
from portal.extensions import db
from portal.models import Agreement, Amendment, Campaign, User
from portal.services import amendments
from portal.services.access import RequestInfo
from portal.services.timefmt import local_date


def amend(
    admin: User, signatory: User, ed: User, agreement: Agreement, signed: dict[str, Any]
) -> Amendment:
    """The lead agency drafts an amendment to the training section, certifies and sends it;
    the executive director signs, the lead agency's signatory countersigns: in effect."""
    request: RequestInfo = signed["request"]
    made = amendments.draft(
        admin,
        agreement.id,
        sections="V.D (Training)",
        new_text="Every HMIS user completes the Privacy & Security refresher each year, within "
        "thirty days of the anniversary of their user agreement, in addition to the training "
        "required before access is issued.",
        reason="The CoC's HMIS & Data Committee adopted a yearly privacy refresher for every user.",
        form_key=None,
        request=request,
    )
    amendments.send(admin, made.id, request)
    amendments.sign_as_agency(ed, made.id, **signed)
    return amendments.countersign(signatory, made.id, **signed)


def resign(
    admin: User, signatory: User, resigning_ed: User, signed: dict[str, Any]
) -> tuple[Campaign, Agreement]:
    """The lead agency publishes a new version of the agreement (the yearly training
    refresher written in) and sends it to every agency on the older one. `resigning_ed`'s
    agency re-signs at once and its old agreement ends as superseded; the other lets the
    request run past the campaign's deadline, where it expires (its old agreement stays in
    effect). Returns the campaign and the re-signed agreement."""
    from portal.services import agreement_signatures, campaigns, deadlines, templates

    request: RequestInfo = signed["request"]
    current = templates.current()
    revised = templates.publish(
        admin,
        version=str(int(current.version) + 1)
        if current.version.isdigit()
        else f"{current.version}-r2",
        revised_date=local_date(clock.now()).isoformat(),
        title=current.title,
        body=current.body.replace(
            "\n## E. Security\n",
            "4. [Yearly refresher] Make sure each of its HMIS users completes the Privacy & "
            "Security refresher each year.\n\n## E. Security\n",
            1,
        ),
        notes="Writes in the yearly privacy refresher the CoC adopted.",
        request=request,
    )
    campaign = campaigns.start(
        admin,
        template_id=revised.id,
        note="Please sign the agreement as revised this year.",
        request=request,
    )
    [new] = [a for a in campaign.agreements if a.agency_id == resigning_ed.agency_id]
    agreement_signatures.sign_as_agency(resigning_ed, new.id, **signed)
    new = agreement_signatures.countersign(signatory, new.id, **signed)
    # The other agency never signs: reminders go out, then the deadline passes.
    days = (campaign.due_on - local_date(clock.now())).days + 1
    with clock.shifted(timedelta(days=days)):
        deadlines.sweep()
    return db.session.get(Campaign, campaign.id), new


def write_campaign(campaign: Campaign, out: Path) -> Path:
    """The campaign's outcome, agency by agency, in the machines' words."""
    from workflows.agreement import AGREEMENT
    from workflows.campaign import CAMPAIGN

    path = out / f"{campaign.reference}-campaign.txt"
    lines = [
        f"{campaign.reference}: version {campaign.template.version}, "
        f"{CAMPAIGN.state(campaign.state).label}\n"
    ]
    for agreement in campaign.agreements:
        replaced = agreement.replaces
        lines.append(
            f"{agreement.agency.legal_name}: {agreement.reference} "
            f"{AGREEMENT.state(agreement.state).label}; {replaced.reference} "
            f"{AGREEMENT.state(replaced.state).label}\n"
        )
    path.write_text("".join(lines))
    return path

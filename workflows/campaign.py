"""A re-signing campaign: every chosen agency signs the new template version of the Partner
Agency Agreement (issue 11, section 3).

SSF starts a campaign for a template version and a deadline (the last day to sign, in the
lead agency's time zone); each chosen agency gets a new agreement that replaces its agreement
in effect once both parties sign it. The campaign itself only follows its agreements:

- `open` while requests for signatures are out;
- at the end of the deadline day the portal fires `deadline_passes`: the agreements still
  unsigned expire (their own timers), and those the agency signed in time wait only for the
  lead agency's countersignature (`past_deadline`);
- once every agreement of the campaign has resolved (in effect, declined, expired, voided)
  the portal fires `complete`;
- SSF's HMIS admin may close the campaign early, saying why; its agreements not yet in
  effect are then voided.
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import Event, Machine, State, Timer

SYSTEM = "system"

STATES = (
    State(
        "open",
        "Open: agencies are signing",
        description="The new agreements are sent; each agency's executive director signs, "
        "then the lead agency countersigns.",
    ),
    State(
        "past_deadline",
        "Deadline passed: awaiting countersignatures",
        description="The deadline passed; the requests left unsigned expired, and the "
        "agreements the agencies signed in time wait for the lead agency's countersignature.",
    ),
    State(
        "completed",
        "Completed",
        terminal=True,
        description="Every agreement of the campaign resolved: in effect, declined, expired "
        "or voided.",
    ),
    State(
        "closed",
        "Closed",
        terminal=True,
        description="The lead agency closed the campaign early, giving a reason; its "
        "agreements not yet in effect were voided.",
    ),
)

EVENTS = (
    Event(
        "close",
        "Close the campaign",
        sources=("open", "past_deadline"),
        target="closed",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        requires_reason=True,
        awaited=False,
        description="The lead agency's HMIS admin ends the campaign early, saying why; the "
        "agreements still unsigned are voided.",
    ),
    Event(
        "deadline_passes",
        "End the signing period",
        sources=("open",),
        target="past_deadline",
        roles={SYSTEM},
        sides={SYSTEM},
        description="Fired at the end of the campaign's last day to sign.",
    ),
    Event(
        "complete",
        "Complete the campaign",
        sources=("open", "past_deadline"),
        target="completed",
        roles={SYSTEM},
        sides={SYSTEM},
        description="Fired when the last agreement of the campaign resolves.",
    ),
)

TIMERS = (
    Timer(
        "open",
        "deadline_passes",
        "campaign_deadline",
        says="The requests still unsigned expire at the campaign's deadline",
    ),
)

CAMPAIGN = Machine(
    "campaign",
    "Re-signing campaign",
    STATES,
    EVENTS,
    TIMERS,
    initial="open",
    roles=parties.names({"ssf_admin"}),
    sides=parties.AGREEMENT_SIDES,
)

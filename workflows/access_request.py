"""A request for HMIS access for one staff member of a partner agency (IV.B.4, V.E.5–7).

The agency's executive director or security officer requests access while the agency's
agreement is in effect and the agency is not suspended. The new user then onboards (their
own process, workflows/onboarding.py): sets a password, signs the HMIS User Agreement, which
the agency approves, and completes the required training. The lead agency issues the HMIS
account only when the four conditions of IV.B.4 hold (portal/services/gates.py computes
them; the guard below reads the service's verdict, so a forgotten check fails closed).

Facts the service computes:
  gates_met   True when all four conditions of IV.B.4 hold
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import Event, Machine, State, fact

SYSTEM = "system"
REQUESTERS = frozenset({"agency_ed", "agency_security_officer"})
REQUESTER = "the agency's executive director or security officer"

gates_met = fact(
    "gates_met",
    "The HMIS account can be issued only when the agreement is in effect, the participation "
    "fee is settled, the signed user agreement is on file and the required training is "
    "complete (IV.B.4).",
)

STATES = (
    State(
        "in_progress",
        "In progress",
        description="The new user is onboarding: password, user agreement, training and tests.",
    ),
    State(
        "issued",
        "HMIS account issued",
        terminal=True,
        description="The lead agency issued the HMIS account and recorded its user id.",
    ),
    State(
        "withdrawn",
        "Withdrawn",
        terminal=True,
        description="The agency or the lead agency withdrew the request, giving a reason.",
    ),
    State(
        "agreement_ended",
        "Closed — the agreement ended",
        terminal=True,
        description="The agency's agreement ended while the request was open.",
    ),
)

EVENTS = (
    Event(
        "issue",
        "Issue the HMIS account",
        sources=("in_progress",),
        target="issued",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        guards=(gates_met,),
        description="A lead agency HMIS admin issues the account once all four conditions "
        "hold, recording the HMIS user id.",
    ),
    Event(
        "withdraw",
        "Withdraw the request",
        sources=("in_progress",),
        target="withdrawn",
        roles=REQUESTERS | {"ssf_admin"},
        sides={parties.LEAD, parties.AGENCY},
        requires_reason=True,
        awaited=False,
        description="The agency or the lead agency withdraws the request, saying why.",
    ),
    Event(
        "agreement_ended",
        "Close the request: the agreement ended",
        sources=("in_progress",),
        target="agreement_ended",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal closes the request when the agency's agreement ends.",
    ),
)

ACCESS_REQUEST = Machine(
    "access_request",
    "HMIS access request",
    STATES,
    EVENTS,
    initial="in_progress",
    roles=parties.names(REQUESTERS | {"ssf_admin"}),
    sides=parties.AGREEMENT_SIDES,
)

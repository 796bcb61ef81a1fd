"""A notice of termination for convenience (VIII.B.1): 30 days' prior written notice.

Either party may end the agreement by giving the other 30 days' written notice. When the
notice period ends the termination takes effect (the service then fires the agreement's
`terminate`); until then the party that gave the notice may rescind it, saying why.

Facts (computed by the service, as for a notice of default):
  actor_acts_for_issuer   the actor may act for the party that gave the notice
"""

from __future__ import annotations

from workflows import parties
from workflows.default_notice import (
    ISSUER,
    PARTY_ROLES,
    PARTY_SIDES,
    agreement_ended,
    issuer_only,
)
from workflows.engine import SYSTEM, Event, Machine, State, Timer

_ENDED_STATE, _ENDED_EVENT = agreement_ended(("notice_period",))

STATES = (
    State(
        "notice_period",
        "Notice period running",
        description="Thirty days' notice runs from the day after the notice is given.",
    ),
    State(
        "rescinded",
        "Notice rescinded",
        terminal=True,
        description="The party that gave the notice rescinded it; the agreement continues.",
    ),
    State(
        "effective",
        "Termination effective",
        terminal=True,
        description="The notice period ended; the agreement is terminated (VIII.B.1).",
    ),
    _ENDED_STATE,
)

EVENTS = (
    Event(
        "rescind",
        "Rescind the notice",
        sources=("notice_period",),
        target="rescinded",
        roles=PARTY_ROLES,
        sides=PARTY_SIDES,
        who=ISSUER,
        guards=(issuer_only("rescind the notice"),),
        requires_reason=True,
        awaited=False,
        description="The party that gave the notice takes it back, saying why.",
    ),
    Event(
        "notice_elapsed",
        "End the notice period",
        sources=("notice_period",),
        target="effective",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal ends the notice period by itself; termination follows.",
    ),
    _ENDED_EVENT,
)

TIMERS = (
    Timer(
        "notice_period",
        "notice_elapsed",
        "termination_notice",
        says="The notice period ends and the agreement terminates by itself",
    ),
)

TERMINATION_NOTICE = Machine(
    "termination_notice",
    "Notice of Termination",
    STATES,
    EVENTS,
    TIMERS,
    initial="notice_period",
    roles=parties.names(PARTY_ROLES),
    sides=parties.AGREEMENT_SIDES,
)

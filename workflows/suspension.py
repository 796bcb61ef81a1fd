"""A suspension of HMIS access (IV.B.1, VIII.B.3), of a whole agency or of one person.

SSF may suspend or restrict access pending investigation of a suspected breach that threatens
the integrity of the HMIS. The suspension starts when SSF records it and lasts until an SSF
HMIS admin lifts it, saying why; nothing lifts it by itself, so it has no timer.
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import Event, Machine, State

STATES = (
    State(
        "suspended",
        "Suspended pending investigation",
        description="Access is suspended or restricted while the lead agency investigates.",
    ),
    State(
        "lifted",
        "Suspension lifted",
        terminal=True,
        description="The lead agency lifted the suspension, giving a reason.",
    ),
)

EVENTS = (
    Event(
        "lift",
        "Lift the suspension",
        sources=("suspended",),
        target="lifted",
        roles={"ssf_admin"},
        sides={"lead"},
        requires_reason=True,
        description="A lead agency HMIS admin restores access, saying why.",
    ),
)

SUSPENSION = Machine(
    "suspension",
    "Suspension of HMIS Access",
    STATES,
    EVENTS,
    initial="suspended",
    roles=parties.names({"ssf_admin"}),
    sides=parties.AGREEMENT_SIDES,
)

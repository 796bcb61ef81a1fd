"""A site visit of the lead agency to a partner agency (IV.B.8): scheduled, its findings
recorded, then closed. A finding of non-compliance may lead to a notice of default, which
is a process of its own (workflows/default_notice.py).
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import Event, Machine, State

STATES = (
    State(
        "scheduled",
        "Scheduled",
        description="The lead agency set the date, the time and who visits.",
    ),
    State(
        "findings",
        "Visited — recording findings",
        description="The visit took place; the lead agency records what it found.",
    ),
    State(
        "closed",
        "Closed",
        terminal=True,
        description="The lead agency closed the visit with its findings.",
    ),
    State(
        "cancelled",
        "Cancelled",
        terminal=True,
        description="The visit was cancelled, saying why.",
    ),
)

EVENTS = (
    Event(
        "reschedule",
        "Reschedule the visit",
        sources=("scheduled",),
        target="scheduled",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        awaited=False,
        description="A lead agency HMIS admin changes the date, the time or who visits.",
    ),
    Event(
        "record_visit",
        "Record that the visit took place",
        sources=("scheduled",),
        target="findings",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        description="A lead agency HMIS admin records the visit and starts its findings.",
    ),
    Event(
        "close",
        "Close the visit",
        sources=("findings",),
        target="closed",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        description="A lead agency HMIS admin closes the visit with its findings.",
    ),
    Event(
        "cancel",
        "Cancel the visit",
        sources=("scheduled",),
        target="cancelled",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        requires_reason=True,
        awaited=False,
        description="A lead agency HMIS admin cancels the visit, saying why.",
    ),
    Event(
        "agency_closed",
        "Close: the agency ceased to operate",
        sources=("scheduled", "findings"),
        target="cancelled",
        roles={"system"},
        sides={"system"},
        description="The portal closes an open visit when its agency ceases to operate.",
    ),
)

SITE_VISIT = Machine(
    "monitoring_visit",
    "Site visit",
    STATES,
    EVENTS,
    initial="scheduled",
    roles=parties.names({"ssf_admin"}),
    sides=parties.AGREEMENT_SIDES,
)

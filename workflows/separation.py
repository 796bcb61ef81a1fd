"""A person's separation from their agency (V.E.12), from the agency's report to the lead
agency deactivating their account in the HMIS itself.

The agency's executive director or security officer reports that a person left, and their
last day. The report is the case's creation: the service ends the person's portal access,
retires their signing identity and closes their open access request in the same
transaction, and records whether the report came within one business day of the last day.

What is left is the HMIS: a person with an issued HMIS account waits on the lead agency's
HMIS admins, who deactivate it in the HMIS and record that here. A person who never had an
HMIS account has nothing to deactivate there, so the portal closes their case at once.
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import SYSTEM, Event, Machine, State

REPORTERS = frozenset({"agency_ed", "agency_security_officer"})
REPORTER = "the agency's executive director or security officer"

STATES = (
    State(
        "reported",
        "Reported — HMIS account to deactivate",
        description="Portal access has ended; the lead agency still has to deactivate the "
        "person's account in the HMIS itself.",
    ),
    State(
        "hmis_deactivated",
        "HMIS account deactivated",
        terminal=True,
        description="A lead agency HMIS admin deactivated the account in the HMIS and "
        "recorded it here.",
    ),
    State(
        "no_hmis_account",
        "Closed — no HMIS account to deactivate",
        terminal=True,
        description="The person had no issued HMIS account, so only portal access ended.",
    ),
)

EVENTS = (
    Event(
        "record_hmis_deactivation",
        "Record the HMIS deactivation",
        sources=("reported",),
        target="hmis_deactivated",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        description="A lead agency HMIS admin records that they deactivated the person's "
        "account in the HMIS.",
    ),
    Event(
        "close_no_hmis_account",
        "Close: no HMIS account to deactivate",
        sources=("reported",),
        target="no_hmis_account",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal closes the case when the person had no issued HMIS account.",
    ),
)

SEPARATION = Machine(
    "separation",
    "Separation",
    STATES,
    EVENTS,
    initial="reported",
    roles=parties.names({"ssf_admin"}),
    sides=parties.AGREEMENT_SIDES,
)

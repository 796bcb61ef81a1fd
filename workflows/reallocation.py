"""A program's reallocation (VIII.B.7): the lead agency moves a program from one partner
agency (the releasing agency) to another (the acquiring agency), and the releasing agency
hands over the signed client consent and release-of-information forms within the hand-over
period.

Steps, in order:

1. The hand-over: the releasing agency records that it delivered the forms (how many, how,
   when). When the period ends first, the case becomes overdue and the lead agency is told;
   the releasing agency may still record the delivery.
2. The acquiring agency confirms that it received them. The portal then prepares the
   receipt, certified by the lead agency.
3. The receipt is signed for the releasing agency, then for the acquiring agency, each by
   its executive director or security officer. The second signature completes the case.

The lead agency may cancel an open reallocation, saying why.

Both agencies act with the same roles, so which agency a person acts for is a fact the
service computes:
  acting_for_releasing   the person belongs to the releasing agency
  acting_for_acquiring   the person belongs to the acquiring agency
  esign_consent          the signer consented to do business electronically
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import SYSTEM, Event, Machine, State, Timer, fact

MANAGERS = frozenset({"agency_ed", "agency_security_officer"})
RELEASING = "the releasing agency's executive director or security officer"
ACQUIRING = "the acquiring agency's executive director or security officer"

for_releasing = fact("acting_for_releasing", f"Only {RELEASING} may take this step.", who=True)
for_acquiring = fact("acting_for_acquiring", f"Only {ACQUIRING} may take this step.", who=True)
esign_consent = fact("esign_consent", "You must first consent to do business electronically.")

STATES = (
    State(
        "handover",
        "Hand-over — waiting for the releasing agency to deliver the forms",
        description="The releasing agency delivers the signed client consent and release of "
        "information forms to the acquiring agency and records it here.",
    ),
    State(
        "overdue",
        "Hand-over overdue — escalated to the lead agency",
        description="The hand-over period ended before the delivery was recorded; the lead "
        "agency was told. The releasing agency may still record the delivery.",
    ),
    State(
        "delivered",
        "Delivered — waiting for the acquiring agency to confirm receipt",
        description="The releasing agency recorded the delivery; the acquiring agency "
        "confirms that it received the forms.",
    ),
    State(
        "releasing_signs",
        "Receipt — waiting for the releasing agency's signature",
        description="The receipt is prepared and certified by the lead agency; the releasing "
        "agency signs it first.",
    ),
    State(
        "acquiring_signs",
        "Receipt — waiting for the acquiring agency's signature",
        description="The releasing agency signed the receipt; the acquiring agency signs it.",
    ),
    State(
        "complete",
        "Hand-over complete",
        terminal=True,
        description="Both agencies signed the receipt of the hand-over.",
    ),
    State(
        "cancelled",
        "Cancelled",
        terminal=True,
        description="The lead agency cancelled the reallocation, saying why.",
    ),
)

_OPEN = ("handover", "overdue", "delivered", "releasing_signs", "acquiring_signs")

EVENTS = (
    Event(
        "record_delivery",
        "Record the delivery of the forms",
        sources=("handover", "overdue"),
        target="delivered",
        roles=MANAGERS,
        who=RELEASING,
        sides={parties.AGENCY},
        guards=(for_releasing,),
        description="The releasing agency records how many forms it delivered, how and when.",
    ),
    Event(
        "handover_overdue",
        "The hand-over period ends",
        sources=("handover",),
        target="overdue",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal escalates the hand-over to the lead agency when its period "
        "ends before the delivery is recorded.",
    ),
    Event(
        "confirm_receipt",
        "Confirm receipt of the forms",
        sources=("delivered",),
        target="releasing_signs",
        roles=MANAGERS,
        who=ACQUIRING,
        sides={parties.AGENCY},
        guards=(for_acquiring,),
        description="The acquiring agency confirms that it received the forms; the portal "
        "prepares the receipt.",
    ),
    Event(
        "releasing_signs",
        "Sign the receipt for the releasing agency",
        sources=("releasing_signs",),
        target="acquiring_signs",
        roles=MANAGERS,
        who=RELEASING,
        sides={parties.AGENCY},
        guards=(for_releasing, esign_consent),
        description="The releasing agency's executive director or security officer signs.",
    ),
    Event(
        "acquiring_signs",
        "Sign the receipt for the acquiring agency",
        sources=("acquiring_signs",),
        target="complete",
        roles=MANAGERS,
        who=ACQUIRING,
        sides={parties.AGENCY},
        guards=(for_acquiring, esign_consent),
        description="The acquiring agency's executive director or security officer signs; "
        "the hand-over is complete.",
    ),
    Event(
        "cancel",
        "Cancel the reallocation",
        sources=_OPEN,
        target="cancelled",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        requires_reason=True,
        awaited=False,
        description="A lead agency HMIS admin cancels the reallocation, saying why.",
    ),
    Event(
        "agency_closed",
        "Close: an agency ceased to operate",
        sources=_OPEN,
        target="cancelled",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal closes an open reallocation when either agency ceases to operate.",
    ),
)

TIMERS = (
    Timer(
        "handover",
        "handover_overdue",
        "handover",
        says="The hand-over becomes overdue and is escalated to the lead agency",
    ),
)

REALLOCATION = Machine(
    "reallocation",
    "Program reallocation",
    STATES,
    EVENTS,
    TIMERS,
    initial="handover",
    roles=parties.names(set(MANAGERS) | {"ssf_admin"}),
    sides=parties.AGREEMENT_SIDES,
)

"""An amendment to the HMIS Partner Agency Agreement (VIII.B.2), its own signed document.

The lead agency drafts an amendment to an agreement in effect (which sections change, the
new text, and why), or the agency proposes one and the lead agency accepts it into a draft
or declines it. A sent amendment is certified by the lead agency; the agency's executive
director (or the representative the lead agency designated) signs it, then the lead
agency's signatory countersigns, and it takes effect on the later signature. Either side
may decline, giving a reason. An amendment still open when its agreement ends is closed.

The guards read facts the service computes from its records (see portal/services/amendments):
  agreement_in_effect              the amended agreement is in effect now
  actor_is_authorized_signer       the agency's registered ED or an SSF-designated representative
  esign_consent                    the signer consented to do business electronically
"""

from __future__ import annotations

from workflows import parties
from workflows.agreement import SIGNER, SIGNER_ROLES, authorized_signer, esign_consent
from workflows.engine import Event, Machine, State, Timer, fact

agreement_in_effect = fact(
    "agreement_in_effect",
    "Only an agreement in effect can be amended; this one is not in effect.",
)

LEAD = {"lead"}
AGENCY = {"agency"}

STATES = (
    State(
        "proposed",
        "Proposed by the agency",
        description="The agency proposed the change; the lead agency accepts it into a draft "
        "or declines it.",
    ),
    State(
        "proposal_declined",
        "Proposal declined",
        terminal=True,
        description="The lead agency declined the agency's proposal, giving a reason.",
    ),
    State(
        "draft",
        "Draft",
        description="The sections that change, their new text and the reason; not yet sent.",
    ),
    State(
        "sent",
        "Awaiting the executive director's signature",
        description="Certified by the lead agency and sent; the agency's executive director "
        "signs or declines.",
    ),
    State(
        "agency_signed",
        "Awaiting the lead agency's countersignature",
        description="Signed for the agency; the lead agency's signatory countersigns.",
    ),
    State(
        "effective",
        "In effect",
        terminal=True,
        description="Signed by both parties; part of the agreement from the later signature.",
    ),
    State(
        "declined",
        "Declined",
        terminal=True,
        description="One of the parties declined to sign, giving a reason.",
    ),
    State(
        "voided",
        "Voided by the lead agency",
        terminal=True,
        description="The lead agency withdrew the amendment before it took effect.",
    ),
    State(
        "expired",
        "Expired unsigned",
        terminal=True,
        description="The request for the agency's signature ran out before anyone signed.",
    ),
    State(
        "closed",
        "Closed: the agreement ended",
        terminal=True,
        description="The agreement it would amend ended before the amendment took effect.",
    ),
)

EVENTS = (
    Event(
        "accept_proposal",
        "Accept the proposal",
        sources=("proposed",),
        target="draft",
        roles={"ssf_admin"},
        sides=LEAD,
        description="The lead agency takes the agency's proposal as a draft to send.",
    ),
    Event(
        "decline_proposal",
        "Decline the proposal",
        sources=("proposed",),
        target="proposal_declined",
        roles={"ssf_admin"},
        sides=LEAD,
        requires_reason=True,
        description="The lead agency declines the agency's proposal, saying why.",
    ),
    Event(
        "send",
        "Send for signature",
        sources=("draft",),
        target="sent",
        roles={"ssf_admin"},
        sides=LEAD,
        guards=(agreement_in_effect,),
        description="The lead agency certifies the amendment and sends it to the executive "
        "director.",
    ),
    Event(
        "agency_signs",
        "Sign the amendment",
        sources=("sent",),
        target="agency_signed",
        roles=SIGNER_ROLES,
        who=SIGNER,
        sides=AGENCY,
        guards=(authorized_signer, esign_consent),
        description="The agency's executive director (or the designated representative) signs.",
    ),
    Event(
        "agency_declines",
        "Decline to sign",
        sources=("sent",),
        target="declined",
        roles=SIGNER_ROLES,
        who=SIGNER,
        sides=AGENCY,
        guards=(authorized_signer,),
        requires_reason=True,
        description="The executive director declines, saying why.",
    ),
    Event(
        "lead_countersigns",
        "Countersign the amendment",
        sources=("agency_signed",),
        target="effective",
        roles={"ssf_signatory"},
        sides=LEAD,
        description="The lead agency's signatory countersigns; the amendment takes effect.",
    ),
    Event(
        "lead_declines",
        "Decline to countersign",
        sources=("agency_signed",),
        target="declined",
        roles={"ssf_signatory", "ssf_admin"},
        sides=LEAD,
        requires_reason=True,
        # A way out, not the step the case waits for: the countersignature is.
        awaited=False,
        description="The lead agency declines the amendment the agency signed, saying why.",
    ),
    Event(
        "void",
        "Void the amendment",
        sources=("draft", "sent", "agency_signed"),
        target="voided",
        roles={"ssf_admin"},
        sides=LEAD,
        requires_reason=True,
        awaited=False,
        description="The lead agency withdraws an amendment not yet in effect, saying why.",
    ),
    Event(
        "resend",
        "Send the invitation again",
        sources=("sent",),
        target="sent",
        roles={"ssf_admin"},
        sides=LEAD,
        awaited=False,
        description="A new link (the old one stops working); reminders and expiry count "
        "again from now.",
    ),
    Event(
        "expire",
        "Expire the request",
        sources=("sent",),
        target="expired",
        roles={"system"},
        sides={"system"},
        description="Fired when the request for the agency's signature runs out unsigned.",
    ),
    Event(
        "agreement_ended",
        "Close: the agreement ended",
        sources=("proposed", "draft", "sent", "agency_signed"),
        target="closed",
        roles={"system"},
        sides={"system"},
        description="Fired when the agreement ends while the amendment is still open.",
    ),
)

TIMERS = (
    Timer(
        "sent",
        "expire",
        "amendment_signature",
        says="Unsigned, the request for the agency's signature expires by itself",
    ),
)

# An agency's proposal starts in "proposed"; an amendment the lead agency drafts starts in
# "draft" (the service records that creation). Every state is reachable from "proposed".
AMENDMENT = Machine(
    "amendment",
    "Amendment to the HMIS Partner Agency Agreement",
    STATES,
    EVENTS,
    TIMERS,
    initial="proposed",
    roles=parties.names(SIGNER_ROLES | {"ssf_admin", "ssf_signatory"}),
    sides=parties.AGREEMENT_SIDES,
)

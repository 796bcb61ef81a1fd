"""The HMIS Partner Agency Agreement: formation (II, VIII.A.1) and its end states (VIII.B).

SSF sends an agreement made from a template version; the agency's executive director signs
or declines; SSF countersigns, and the agreement is in effect from the later signature. SSF
may void an agreement that is not yet in effect. Termination is reached later through the
remedies processes (notice for convenience, uncured default), which fire `terminate` as the
system; only the state and that event are declared here so the machine is complete.

The guards read facts the service computes from its records (see portal/services/agreements):
  agency_eligible                  False for a VAWA-covered victim service provider (III.A)
  agency_has_agreement_in_effect   True when another agreement of the agency is in effect
  actor_is_authorized_signer       the agency's registered ED or an SSF-designated representative
  esign_consent                    the signer consented to do business electronically
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import Event, Machine, State, Timer, fact

# A representative SSF designates to sign in the ED's place keeps their own role (often
# agency_user), so any agency role may try and the authorized-signer guard decides.
SIGNER_ROLES = frozenset(parties.AGENCY_ROLES)
SIGNER = (
    "the agency's registered executive director or a representative the lead agency has designated"
)

# Eligibility (III.A): the one wording, which the portal's rule (agencies.refusal_to_partner)
# gives wherever it refuses, and which this machine's guard gives if a service forgot to.
VAWA_REASON = (
    "Victim service providers covered by the Violence Against Women Act (VAWA) may not become "
    "HMIS Partner Agencies (agreement section III.A), so this agency cannot be registered "
    "or enter an agreement."
)
agency_eligible = fact("agency_eligible", VAWA_REASON)
no_agreement_in_effect = fact(
    "agency_has_agreement_in_effect",
    "This agency already has an agreement in effect; a second one cannot start while it is.",
    expected=False,
)
authorized_signer = fact("actor_is_authorized_signer", f"Only {SIGNER} may sign.", who=True)
esign_consent = fact(
    "esign_consent",
    "You must first consent to do business electronically.",
)

STATES = (
    State(
        "draft",
        "Draft",
        description="Made from a template version; not yet sent to the agency.",
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
        description="Signed by both parties; effective from the later signature (VIII.A.1) "
        "and in effect until terminated.",
    ),
    State(
        "declined",
        "Declined by the agency",
        terminal=True,
        description="The executive director declined to sign, giving a reason.",
    ),
    State(
        "voided",
        "Voided by the lead agency",
        terminal=True,
        description="The lead agency withdrew the agreement before it took effect, giving a "
        "reason.",
    ),
    State(
        "expired",
        "Expired unsigned",
        terminal=True,
        description="The request for the agency's signature ran out before anyone signed; "
        "the lead agency may start a new agreement.",
    ),
    State(
        "superseded",
        "Superseded",
        terminal=True,
        description="Replaced by a newer agreement that both parties signed (a re-signing "
        "campaign); it ended the day the new one took effect, and its history is kept.",
    ),
    State(
        "terminated",
        "Terminated",
        terminal=True,
        description="Ended under VIII.B (notice for convenience or an uncured default).",
    ),
)

EVENTS = (
    Event(
        "send",
        "Send for signature",
        sources=("draft",),
        target="sent",
        roles={"ssf_admin"},
        sides={"lead"},
        guards=(agency_eligible, no_agreement_in_effect),
        description="The lead agency certifies the rendered agreement and sends it to the "
        "executive director.",
    ),
    Event(
        "agency_signs",
        "Sign the agreement",
        sources=("sent",),
        target="agency_signed",
        roles=SIGNER_ROLES,
        who=SIGNER,
        sides={"agency"},
        guards=(authorized_signer, esign_consent),
        description="The agency's executive director (or a representative the lead agency "
        "designated) signs.",
    ),
    Event(
        "agency_declines",
        "Decline to sign",
        sources=("sent",),
        target="declined",
        roles=SIGNER_ROLES,
        who=SIGNER,
        sides={"agency"},
        guards=(authorized_signer,),
        requires_reason=True,
        description="The executive director declines, saying why.",
    ),
    Event(
        "lead_countersigns",
        "Countersign the agreement",
        sources=("agency_signed",),
        target="effective",
        roles={"ssf_signatory"},
        sides={"lead"},
        description="The lead agency's signatory countersigns; the agreement takes effect.",
    ),
    Event(
        "void",
        "Void the agreement",
        sources=("draft", "sent", "agency_signed"),
        target="voided",
        roles={"ssf_admin"},
        sides={"lead"},
        requires_reason=True,
        awaited=False,
        description="The lead agency withdraws an agreement that is not yet in effect, saying why.",
    ),
    Event(
        "resend",
        "Send the invitation again",
        sources=("sent",),
        target="sent",
        roles={"ssf_admin"},
        sides={"lead"},
        awaited=False,
        description="The lead agency sends a new link (the old one stops working); the "
        "reminders and the expiry count again from now.",
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
        "supersede",
        "Supersede the agreement",
        sources=("effective",),
        target="superseded",
        roles={"system"},
        sides={"system"},
        description="Fired when the agreement that replaces it takes effect.",
    ),
    Event(
        "terminate",
        "Terminate the agreement",
        sources=("effective",),
        target="terminated",
        roles={"system"},
        sides={"system"},
        description="Fired by the remedies processes when a termination under VIII.B takes effect.",
    ),
)

TIMERS = (
    Timer(
        "sent",
        "expire",
        "agreement_signature",
        says="Unsigned, the request for the agency's signature expires by itself",
    ),
)

AGREEMENT = Machine(
    "agreement",
    "HMIS Partner Agency Agreement",
    STATES,
    EVENTS,
    TIMERS,
    initial="draft",
    roles=parties.names(SIGNER_ROLES | {"ssf_admin", "ssf_signatory"}),
    sides=parties.AGREEMENT_SIDES,
)

"""A notice of default (VIII.B.3): ten days to cure, then the issuer decides.

Either party may give written notice that the other is in default of the agreement while it
is in effect: SSF (the issuer's side is "lead") or the partner agency (side "agency"). The
defaulting party has ten days to cure; the issuer accepts or rejects a submitted cure. If the
cure period lapses the agreement does not end by itself: the issuer *may declare* it
terminated (a signed declaration) or waive the default. The issuer may withdraw the notice
while the cure period runs.

Who acts for which party is the service's call, passed in as facts:
  actor_acts_for_issuer             the actor may act for the party that gave the notice
  actor_acts_for_defaulting_party   the actor may act for the party said to be in default
  actor_is_authorized_signer        an agency person who may sign for the agency (the
                                    agreement machine's fact); read only when declaring
                                    termination for an agency that gave the notice
"""

from __future__ import annotations

from collections.abc import Mapping

from workflows import parties
from workflows.agreement import SIGNER, SIGNER_ROLES
from workflows.engine import SYSTEM, Actor, Event, Guard, Machine, State, Timer, fact, guard

# Either party may stand on either side of a notice, so every role of both sides that acts
# in cases may try and the facts decide which party the actor speaks for.
PARTY_ROLES = parties.LEAD_ACTING_ROLES | SIGNER_ROLES
PARTY_SIDES = frozenset(parties.AGREEMENT_SIDES)
AGREEMENT_ENDED = "agreement_ended"


def agreement_ended(sources: tuple[str, ...]) -> tuple[State, Event]:
    """The state and event that close an open notice when its agreement ends another way
    (a second notice, say): nothing is left for the notice to act on."""
    state = State(
        AGREEMENT_ENDED,
        "Closed — the agreement ended",
        terminal=True,
        description="The agreement ended while this notice was open; the notice closed.",
    )
    event = Event(
        AGREEMENT_ENDED,
        "Close the notice: the agreement ended",
        sources=sources,
        target=AGREEMENT_ENDED,
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal closes the notice when its agreement ends.",
    )
    return state, event


ISSUER = "the party that gave the notice"
DEFAULTING = "the defaulting party"
# The declaration is signed, so only a signatory of the issuing party may make it.
DECLARER = (
    "the party that gave the notice, through a lead agency signatory or the agency's "
    "authorized signer,"
)
TERMINATION_NOT_YET = "Termination may be declared only after the cure period has lapsed."

for_defaulting_party = fact(
    "actor_acts_for_defaulting_party", "Only the defaulting party may submit a cure.", who=True
)


def issuer_only(verb: str) -> Guard:
    """The issuer guard, worded for the step ("Only the party … may accept the cure.")."""
    return fact("actor_acts_for_issuer", f"Only {ISSUER} may {verb}.", who=True)


@guard("For the lead agency, only its signatory may declare the agreement terminated.", who=True)
def lead_declares_through_signatory(ctx: Mapping[str, object], actor: Actor) -> bool:
    return actor.side != "lead" or "ssf_signatory" in actor.roles


@guard(f"Only {SIGNER} may declare the agreement terminated for the agency.", who=True)
def agency_declares_through_signer(ctx: Mapping[str, object], actor: Actor) -> bool:
    return actor.side != "agency" or ctx.get("actor_is_authorized_signer") is True


STATES = (
    State(
        "cure_period",
        "Cure period running",
        description="The defaulting party has ten days from the notice to cure (VIII.B.3).",
    ),
    State(
        "cure_submitted",
        "Cure submitted, awaiting the issuer's decision",
        description="The defaulting party says the default is cured; the issuer decides.",
    ),
    State(
        "cured",
        "Cured — the agreement continues",
        terminal=True,
        description="The issuer accepted the cure; the agreement continues in effect.",
    ),
    State(
        "withdrawn",
        "Notice withdrawn",
        terminal=True,
        description="The issuer withdrew the notice, giving a reason.",
    ),
    State(
        "lapsed",
        "Cure period lapsed",
        description="Not cured in time; the issuer may declare the agreement terminated "
        "or waive the default.",
    ),
    State(
        "terminated",
        "Agreement declared terminated",
        terminal=True,
        description="The issuer declared the agreement immediately terminated (VIII.B.3).",
    ),
    State(
        "waived",
        "Default waived",
        terminal=True,
        description="The issuer waived the default, giving a reason; the agreement continues.",
    ),
)
_ENDED_STATE, _ENDED_EVENT = agreement_ended(("cure_period", "cure_submitted", "lapsed"))
STATES = (*STATES, _ENDED_STATE)


def _party_event(
    name: str,
    label: str,
    sources: tuple[str, ...],
    target: str,
    who: str,
    guards: tuple[Guard, ...],
    *,
    requires_reason: bool = False,
    awaited: bool = True,
    description: str,
) -> Event:
    return Event(
        name,
        label,
        sources=sources,
        target=target,
        roles=PARTY_ROLES,
        sides=PARTY_SIDES,
        who=who,
        guards=guards,
        requires_reason=requires_reason,
        awaited=awaited,
        description=description,
    )


EVENTS = (
    _party_event(
        "submit_cure",
        "Submit a cure",
        ("cure_period",),
        "cure_submitted",
        DEFAULTING,
        (for_defaulting_party,),
        description="The defaulting party reports how it cured the default.",
    ),
    _party_event(
        "accept_cure",
        "Accept the cure",
        ("cure_submitted",),
        "cured",
        ISSUER,
        (issuer_only("accept the cure"),),
        description="The issuer accepts the cure; the agreement continues.",
    ),
    _party_event(
        "reject_cure",
        "Reject the cure",
        ("cure_submitted",),
        "cure_period",
        ISSUER,
        (issuer_only("reject the cure"),),
        requires_reason=True,
        description="The issuer rejects the cure, saying why; the cure period runs on to "
        "its original end (or lapses at once if that has passed).",
    ),
    _party_event(
        "withdraw",
        "Withdraw the notice",
        ("cure_period", "cure_submitted"),
        "withdrawn",
        ISSUER,
        (issuer_only("withdraw the notice"),),
        requires_reason=True,
        awaited=False,
        description="The issuer withdraws the notice, saying why.",
    ),
    Event(
        "cure_lapsed",
        "End the cure period",
        sources=("cure_period",),
        target="lapsed",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal ends the cure period by itself when it runs out uncured.",
    ),
    Event(
        "declare_termination",
        "Declare the agreement terminated",
        sources=("lapsed",),
        target="terminated",
        roles=frozenset({"ssf_signatory"}) | SIGNER_ROLES,
        sides=PARTY_SIDES,
        who=DECLARER,
        guards=(
            issuer_only("declare the agreement terminated"),
            lead_declares_through_signatory,
            agency_declares_through_signer,
        ),
        description="The issuer's signatory declares the agreement immediately terminated.",
    ),
    _party_event(
        "waive",
        "Waive the default",
        ("lapsed",),
        "waived",
        ISSUER,
        (issuer_only("waive the default"),),
        requires_reason=True,
        description="The issuer waives the default, saying why; the agreement continues.",
    ),
    _ENDED_EVENT,
)

# Re-entering cure_period after a rejection starts the timer again; the caller computes the
# deadline from the notice date, so the period is not extended by the rejection.
TIMERS = (
    Timer("cure_period", "cure_lapsed", "cure_period", says="The cure period ends by itself"),
)

DEFAULT_NOTICE = Machine(
    "default_notice",
    "Notice of Default",
    STATES,
    EVENTS,
    TIMERS,
    initial="cure_period",
    roles=parties.names(PARTY_ROLES),
    sides=parties.AGREEMENT_SIDES,
)

# The engine refuses a step from the wrong state by naming the state; these say instead what
# must happen first (or what to do), for the steps a person may look for too early or late.
NOT_NOW: Mapping[tuple[str, str], str] = {
    ("cure_period", "accept_cure"): "A cure can be accepted only after the defaulting party "
    "submits one.",
    ("cure_period", "reject_cure"): "A cure can be rejected only after the defaulting party "
    "submits one.",
    ("cure_period", "declare_termination"): TERMINATION_NOT_YET,
    ("cure_period", "waive"): "A default may be waived only after the cure period has lapsed; "
    "until then the notice may be withdrawn.",
    ("cure_submitted", "submit_cure"): "A cure has already been submitted and awaits the "
    "decision of the party that gave the notice.",
    ("cure_submitted", "declare_termination"): TERMINATION_NOT_YET,
    ("cure_submitted", "waive"): "A default may be waived only after the cure period has "
    "lapsed; until then the notice may be withdrawn.",
    ("lapsed", "submit_cure"): "The cure period has lapsed; a cure can no longer be submitted.",
    ("lapsed", "accept_cure"): "The cure period has lapsed with no cure to accept; the "
    "default may be waived instead.",
    ("lapsed", "reject_cure"): "The cure period has lapsed with no cure to reject.",
    ("lapsed", "withdraw"): "The cure period has lapsed; the notice can no longer be "
    "withdrawn, but the default may be waived.",
}


def not_now_reason(state: str, event: str) -> str | None:
    """Why `event` cannot happen while the notice is in `state`, if a person may look for it
    there; None when the event leaves that state or the engine's own refusal says enough."""
    DEFAULT_NOTICE.state(state)
    DEFAULT_NOTICE.event(event)
    return NOT_NOW.get((state, event))

"""One HMIS user's yearly recertification (V.E.5, V.D.1): the user agreement and the privacy
and security training each lapse a set time after they were last signed or passed, unless
renewed before.

A recertification opens with the year's campaign, one per issued HMIS user per year. It waits
for two renewals, in any order:

1. The renewed HMIS User Agreement: the lead agency certified it when the recertification
   opened; the user signs it, then the agency's executive director or security officer
   approves it in a field of their own.
2. The privacy and security test, passed again after the recertification opened.

When both are on file the portal marks the recertification renewed. At the end of the lapse
day (the earlier of the two dates) an open recertification lapses: the user keeps only the
way to renew until both renewals are on file, and the lead agency deactivates the HMIS
account meanwhile. Renewing after the lapse restores access.

The signature steps leave the state as it is (open stays open, lapsed stays lapsed); the
engine has one target per event, so each is declared once for each of the two states.

Facts the service computes:
  actor_is_user        True when the person acting is the user being recertified
  esign_consent        the signer consented to do business electronically
  awaiting_signature   the renewed user agreement waits for the user's signature
  awaiting_approval    the user signed it and it waits for the agency's approval
  both_renewed         the renewed agreement is approved and the test passed again
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import Event, Machine, State, Timer, fact

SYSTEM = "system"
THE_USER = "the HMIS user"
APPROVERS = frozenset({"agency_ed", "agency_security_officer"})
APPROVER = "the agency's executive director or security officer"

is_user = fact("actor_is_user", f"Only {THE_USER} may sign their renewed user agreement.", who=True)
is_not_user = fact(
    "actor_is_user",
    "A person cannot approve their own user agreement.",
    expected=False,
    who=True,
)
esign_consent = fact("esign_consent", "You must first consent to do business electronically.")
awaiting_signature = fact(
    "awaiting_signature", "The renewed user agreement is not waiting for the user's signature."
)
awaiting_approval = fact(
    "awaiting_approval", "The renewed user agreement must be signed by the user before approval."
)
both_renewed = fact(
    "both_renewed",
    "Both the renewed user agreement and the privacy and security test are needed first.",
)

STATES = (
    State(
        "open",
        "Open — renewal due",
        description="The user renews the user agreement and passes the privacy and security "
        "test again before the lapse date.",
    ),
    State(
        "lapsed",
        "Lapsed — access suspended until renewed",
        description="The lapse date passed without both renewals; the user may only renew "
        "until both are on file.",
    ),
    State(
        "renewed",
        "Renewed",
        terminal=True,
        description="The renewed user agreement is approved and the test passed again.",
    ),
    State(
        "closed",
        "Closed",
        terminal=True,
        description="Closed by the lead agency (the person no longer needs HMIS access), or "
        "by the portal when the person's account ended.",
    ),
)

_OPEN = ("open", "lapsed")


def _signature_events(state: str, suffix: str) -> tuple[Event, Event]:
    return (
        Event(
            f"user_signs{suffix}",
            "Sign the renewed user agreement",
            sources=(state,),
            target=state,
            roles=parties.AGENCY_ROLES,
            who=THE_USER,
            sides={parties.AGENCY},
            guards=(is_user, awaiting_signature, esign_consent),
            description="The user signs the renewed HMIS User Agreement.",
        ),
        Event(
            f"agency_approves{suffix}",
            "Approve the renewed user agreement",
            sources=(state,),
            target=state,
            roles=APPROVERS,
            who=APPROVER,
            sides={parties.AGENCY},
            guards=(is_not_user, awaiting_approval, esign_consent),
            description="The agency's executive director or security officer approves it.",
        ),
    )


EVENTS = (
    *_signature_events("open", ""),
    *_signature_events("lapsed", "_after_lapse"),
    Event(
        "renewal_complete",
        "Recertification complete",
        sources=_OPEN,
        target="renewed",
        roles={SYSTEM},
        sides={SYSTEM},
        guards=(both_renewed,),
        description="The portal records the recertification once both renewals are on file.",
    ),
    Event(
        "lapses",
        "The recertification lapses",
        sources=("open",),
        target="lapsed",
        roles={SYSTEM},
        sides={SYSTEM},
        description="At the end of the lapse day, without both renewals, access lapses.",
    ),
    Event(
        "access_ended",
        "Close: the person's access ended",
        sources=_OPEN,
        target="closed",
        roles={SYSTEM},
        sides={SYSTEM},
        awaited=False,
        description="The portal closes it when the person's portal account ends (a "
        "separation, a deactivation).",
    ),
    Event(
        "close",
        "Close the recertification",
        sources=_OPEN,
        target="closed",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        requires_reason=True,
        awaited=False,
        description="A lead agency HMIS admin closes it (the person left or no longer needs "
        "HMIS access), saying why.",
    ),
)

TIMERS = (
    Timer(
        "open",
        "lapses",
        "recertification_lapse",
        says="Without both renewals, access lapses by itself",
    ),
)

RECERTIFICATION = Machine(
    "recertification",
    "Yearly recertification",
    STATES,
    EVENTS,
    TIMERS,
    initial="open",
    roles=parties.names(set(parties.AGENCY_ROLES) | {"ssf_admin"}),
    sides=parties.AGREEMENT_SIDES,
)

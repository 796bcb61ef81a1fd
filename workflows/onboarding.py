"""A new HMIS user's onboarding, from the invitation to completed training (IV.B.4, V.E.5–7).

One onboarding belongs to one access request (workflows/access_request.py) and closes when
the request ends. The steps, in order:

1. The invitation: the new user sets a password by a single-use link. It expires after the
   invitation rule; the agency (or the lead agency) may then send a new one.
2. The HMIS User Agreement: the lead agency certified it when the request was made; the new
   user signs it, then the agency's executive director or security officer approves it in a
   field of their own. The request to sign sends reminders and expires unsigned after its
   period; the agency (or the lead agency) may then send a new link.
3. Training: the required courses and their tests, within the training window. When the
   window passes, the lead agency may reopen it, saying why.

Facts the service computes:
  actor_is_new_user   True when the person acting is the user being onboarded
  esign_consent       the signer consented to do business electronically
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import Event, Machine, State, Timer, fact

SYSTEM = "system"
NEW_USER = "the new user"
APPROVERS = frozenset({"agency_ed", "agency_security_officer"})
APPROVER = "the agency's executive director or security officer"
SENDERS = APPROVERS | {"ssf_admin"}

is_new_user = fact("actor_is_new_user", f"Only {NEW_USER} may take this step.", who=True)
is_not_new_user = fact(
    "actor_is_new_user",
    "A person cannot approve their own user agreement.",
    expected=False,
    who=True,
)
esign_consent = fact("esign_consent", "You must first consent to do business electronically.")

STATES = (
    State(
        "invited",
        "Invited — waiting for the new user to set a password",
        description="An invitation link was e-mailed; it works once and expires.",
    ),
    State(
        "invitation_expired",
        "Invitation expired",
        description="The invitation was not used in time; a new one can be sent.",
    ),
    State(
        "signing",
        "Waiting for the new user to sign the HMIS User Agreement",
        description="The new user reads the HMIS User Agreement and signs it.",
    ),
    State(
        "signature_expired",
        "Request to sign expired",
        description="The new user did not sign the HMIS User Agreement in time; the agency "
        "or the lead agency can send a new link.",
    ),
    State(
        "approval",
        "Waiting for the agency to approve the user agreement",
        description="The agency's executive director or security officer approves the "
        "signed user agreement.",
    ),
    State(
        "training",
        "Training and tests",
        description="The new user completes the required courses and passes their tests.",
    ),
    State(
        "training_overdue",
        "Training window passed",
        description="The training window passed before the required training was complete; "
        "the lead agency may reopen it.",
    ),
    State(
        "complete",
        "Onboarding complete",
        terminal=True,
        description="The user agreement is on file and the required training is complete.",
    ),
    State(
        "closed",
        "Closed — the request ended",
        terminal=True,
        description="The access request was withdrawn or closed while onboarding was open.",
    ),
)

_OPEN = (
    "invited",
    "invitation_expired",
    "signing",
    "signature_expired",
    "approval",
    "training",
    "training_overdue",
)

EVENTS = (
    Event(
        "accept_invitation",
        "Set a password",
        sources=("invited",),
        target="signing",
        roles=parties.AGENCY_ROLES,
        who=NEW_USER,
        sides={parties.AGENCY},
        guards=(is_new_user,),
        description="The new user follows the invitation and sets a password.",
    ),
    Event(
        "invitation_expires",
        "The invitation expires",
        sources=("invited",),
        target="invitation_expired",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal marks the invitation expired when its period ends.",
    ),
    Event(
        "reinvite",
        "Send a new invitation",
        sources=("invited", "invitation_expired"),
        target="invited",
        roles=SENDERS,
        sides={parties.LEAD, parties.AGENCY},
        awaited=False,
        description="The agency or the lead agency sends a new link; the old one stops working.",
    ),
    Event(
        "user_signs",
        "Sign the HMIS User Agreement",
        sources=("signing",),
        target="approval",
        roles=parties.AGENCY_ROLES,
        who=NEW_USER,
        sides={parties.AGENCY},
        guards=(is_new_user, esign_consent),
        description="The new user signs the user agreement.",
    ),
    Event(
        "signature_expires",
        "The request to sign expires",
        sources=("signing",),
        target="signature_expired",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal marks the request to sign expired when its period ends.",
    ),
    Event(
        "resend_user_agreement",
        "Send a new link to sign",
        sources=("signing", "signature_expired"),
        target="signing",
        roles=SENDERS,
        sides={parties.LEAD, parties.AGENCY},
        awaited=False,
        description="The agency or the lead agency sends the new user a new link to sign; the "
        "old one stops working, and the reminders and the expiry count again from now.",
    ),
    Event(
        "agency_approves",
        "Approve the user agreement",
        sources=("approval",),
        target="training",
        roles=APPROVERS,
        who=APPROVER,
        sides={parties.AGENCY},
        guards=(is_not_new_user, esign_consent),
        description="The agency's executive director or security officer signs their approval.",
    ),
    Event(
        "training_completed",
        "Training complete",
        sources=("training", "training_overdue"),
        target="complete",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal records that every required course is complete and its test "
        "passed.",
    ),
    Event(
        "training_window_ends",
        "The training window ends",
        sources=("training",),
        target="training_overdue",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal marks the training overdue when its window ends.",
    ),
    Event(
        "reopen_training",
        "Reopen the training window",
        sources=("training_overdue",),
        target="training",
        roles={"ssf_admin"},
        sides={parties.LEAD},
        requires_reason=True,
        description="A lead agency HMIS admin gives the new user a new training window, "
        "saying why.",
    ),
    Event(
        "request_ended",
        "Close onboarding: the request ended",
        sources=_OPEN,
        target="closed",
        roles={SYSTEM},
        sides={SYSTEM},
        description="The portal closes onboarding when its access request ends.",
    ),
)

TIMERS = (
    Timer(
        "invited",
        "invitation_expires",
        "onboarding_invitation",
        says="The invitation expires by itself",
    ),
    Timer(
        "signing",
        "signature_expires",
        "user_agreement_signature",
        says="Unsigned, the request to sign expires by itself",
    ),
    Timer(
        "training",
        "training_window_ends",
        "training_window",
        says="The training window ends by itself",
    ),
)

ONBOARDING = Machine(
    "onboarding",
    "New user onboarding",
    STATES,
    EVENTS,
    TIMERS,
    initial="invited",
    roles=parties.names(set(parties.AGENCY_ROLES) | {"ssf_admin"}),
    sides=parties.AGREEMENT_SIDES,
)

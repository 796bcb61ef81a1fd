"""The agency's yearly security self-assessment (V.E.11 a–c and the V.B.6 postings).

The agency's security officer starts the year's assessment, answers its questions (saving as
often as they like) and signs it as a PDF; the lead agency certified the PDF first. One per
agency per year. Only the person who holds the security officer role when signing may sign.

Facts the service computes:
  actor_is_officer    True when the person acting is the agency's current security officer
  answers_complete    every question answered, with a comment wherever the answer is "no"
  esign_consent       the signer consented to do business electronically
"""

from __future__ import annotations

from workflows import parties
from workflows.engine import Event, Machine, State, fact

OFFICER = "the agency's security officer"

is_officer = fact(
    "actor_is_officer", f"Only {OFFICER} may sign the security self-assessment.", who=True
)
answers_complete = fact(
    "answers_complete",
    "Answer every question first, with a comment wherever the answer is “no”.",
)
esign_consent = fact("esign_consent", "You must first consent to do business electronically.")

STATES = (
    State(
        "draft",
        "In progress — the security officer is answering",
        description="The security officer answers each question; answers can be saved and "
        "changed until the assessment is signed.",
    ),
    State(
        "signed",
        "Signed",
        terminal=True,
        description="The security officer signed the assessment; the signed PDF is on file.",
    ),
)

EVENTS = (
    Event(
        "officer_signs",
        "Sign the security self-assessment",
        sources=("draft",),
        target="signed",
        roles=parties.AGENCY_ROLES,
        who=OFFICER,
        sides={parties.AGENCY},
        guards=(is_officer, answers_complete, esign_consent),
        description="The agency's security officer signs the assessment as a PDF.",
    ),
)

SELF_ASSESSMENT = Machine(
    "self_assessment",
    "Security self-assessment",
    STATES,
    EVENTS,
    initial="draft",
    roles=parties.names(set(parties.AGENCY_ROLES)),
    sides=parties.AGREEMENT_SIDES,
)

"""What the notice pages and the agreement page's Remedies section show about notices.

The notices' own services (default_notices, terminations) decide every step; this module
puts their answers in the form the pages read, so no template compares states or roles:
the next steps on a notice, whether its period still runs, which party is which, and
whether this person may give a notice now (and if not, why not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.models import Agreement, User
from portal.models.remedies import DefaultNotice, TerminationNotice
from portal.services import default_notices, remedies, terminations
from portal.services.next_steps import NextSteps, for_case, state_of
from workflows.default_notice import DEFAULT_NOTICE
from workflows.termination_notice import TERMINATION_NOTICE

# The states in which a notice's period still runs (its page shows the time left).
_CURE_RUNS = frozenset({"cure_period", "cure_submitted"})
_NOTICE_RUNS = frozenset({"notice_period"})
# The agreement's states in which its page has a Remedies section even without notices.
_HAS_REMEDIES = frozenset({"effective", "terminated"})

DEFAULT = default_notices.WHAT
TERMINATION = terminations.WHAT


def default_notice(notice: DefaultNotice, user: User) -> NextSteps:
    """What the notice of default's page offers this person, and who else must act."""
    return for_case(DEFAULT_NOTICE, notice, user, default_notices.context(notice, user))


def termination_notice(notice: TerminationNotice, user: User) -> NextSteps:
    """What the notice of termination's page offers this person, and who else must act."""
    return for_case(TERMINATION_NOTICE, notice, user, terminations.context(notice, user))


@dataclass(frozen=True)
class Period:
    """A notice's period as its page shows it: when it ends and by which rule; whether it
    still runs (then the page shows the time left), and otherwise what became of the notice."""

    ends_at: datetime
    rule_text: str
    running: bool
    outcome: str


def cure_period(notice: DefaultNotice) -> Period:
    running = notice.state in _CURE_RUNS
    outcome = state_of(notice).description
    return Period(notice.cure_ends_at, notice.cure_rule_text, running, outcome)


def notice_period(notice: TerminationNotice) -> Period:
    running = notice.state in _NOTICE_RUNS
    outcome = state_of(notice).description
    return Period(notice.effective_at, notice.rule_text, running, outcome)


@dataclass(frozen=True)
class Parties:
    """The party that gave a notice and the party it was given to, by name."""

    issuer: str
    other: str


def parties(notice: DefaultNotice | TerminationNotice) -> Parties:
    other = "agency" if notice.issuer_side == "lead" else "lead"
    return Parties(
        remedies.party_name(notice.issuer_side, notice.agency),
        remedies.party_name(other, notice.agency),
    )


def refusal_to_give(user: User, agreement: Agreement, what: str) -> str | None:
    """Why `user` may not give a notice (`what`: DEFAULT or TERMINATION) on `agreement` now,
    or None if they may: the rule of that notice's own service."""
    if what == TERMINATION:
        return terminations.refusal_to_give(user, agreement)
    return default_notices.refusal_to_give(user, agreement)


@dataclass(frozen=True)
class NoticeRow:
    """A notice in the agreement page's Remedies table."""

    notice: DefaultNotice | TerminationNotice
    issuer: str
    running: bool


@dataclass(frozen=True)
class AgreementRemedies:
    """The agreement page's Remedies section for one person.

    `shown`: whether the section appears (the agreement is or was in effect, or has notices);
    `note`: one line when this person may give no notice on an agreement in effect.
    """

    shown: bool
    default_notices: list[NoticeRow]
    termination_notices: list[NoticeRow]
    may_give_default: bool
    may_give_termination: bool
    running_termination: TerminationNotice | None
    note: str | None


def on_agreement(user: User, agreement: Agreement) -> AgreementRemedies:
    """The notices given on an agreement this person may see, and which they may give."""
    given_default = default_notices.for_agreement(user, agreement.id)
    given_termination = terminations.for_agreement(user, agreement.id)
    running = terminations.running(agreement)
    may_default = refusal_to_give(user, agreement, DEFAULT) is None
    may_termination = refusal_to_give(user, agreement, TERMINATION) is None
    in_effect = agreement.state == "effective"
    note = None
    if in_effect and running is None and not (may_default or may_termination):
        note = f"Notices are {remedies.signed_by()}."
    return AgreementRemedies(
        shown=agreement.state in _HAS_REMEDIES or bool(given_default or given_termination),
        default_notices=[
            NoticeRow(n, parties(n).issuer, n.state in _CURE_RUNS) for n in given_default
        ],
        termination_notices=[
            NoticeRow(n, parties(n).issuer, n.state in _NOTICE_RUNS) for n in given_termination
        ],
        may_give_default=may_default,
        may_give_termination=may_termination,
        running_termination=running,
        note=note,
    )

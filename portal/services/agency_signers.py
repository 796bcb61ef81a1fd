"""Asking an agency's signers to sign a document of a case (an agreement, an amendment): the
invitation and its link, the reminders, and the expiry of a request left unsigned.

One `AgencySigners` per process says what the document is called and where its page is; the
rest is the same for every such document. The reminders and the expiry are deadlines of the
case's state awaiting the agency's signature (settings SIGNATURE_REQUEST_* and
SIGNATURE_REMINDER_DAYS), counted from the case's `invited_at`; the links are kept by
`signature_requests`. Everything here runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal import clock
from portal.models import Deadline, Transition, User
from portal.notify import outbox
from portal.services import agencies, auth, cases, deadlines, lead, links, signature_requests
from portal.services.access import SYSTEM
from portal.services.errors import ServiceError
from portal.services.lead import lead_agency_name
from workflows.engine import Machine


@dataclass(frozen=True)
class AgencySigners:
    machine: Machine
    noun: str  # "agreement", "amendment": "you will then see the …"
    # The document in words, for the e-mails: "the HMIS Partner Agency Agreement PAA-… for …".
    title: Callable[[Any], str]
    subject: Callable[[Any], str]  # "Please sign …"
    path: Callable[[Any], str]  # the case's page

    def page(self, case: Any) -> str:
        """The case's page, as a full link for an e-mail."""
        return links.page(self.path(case))

    def ask(self, case: Any, at: datetime) -> None:
        """(Re)asks the agency's signers: its executive director, and a representative the
        lead agency designated to sign in their place (a send, or a resend's new links)."""
        agency = case.agency
        ed = agencies.executive_director(agency)
        if ed is None:
            raise ServiceError(f"{agency.legal_name} has no active executive director on record.")
        self.ask_to_sign(case, ed, at=at)
        designation = agencies.designated_signer(agency)
        if designation is not None and designation.user.active and designation.user_id != ed.id:
            self.ask_to_sign(case, designation.user, at=at)

    def ask_to_sign(self, case: Any, signer: User, *, at: datetime) -> None:
        """Opens a signature request for `signer` and e-mails its link (as an invitation to
        set a password first, for someone who has none yet)."""
        link = signature_requests.send(self.machine.name, case, signer, at=at)
        self._mail(case, signer, link, reminder=None)

    def _mail(self, case: Any, signer: User, link: str, *, reminder: Deadline | None) -> None:
        purpose = f"{lead_agency_name()} sent {self.title(case)} for your signature."
        if reminder is not None:
            purpose = f"A reminder: {purpose} The request expires {reminder.rule_text}."
        if signer.password_hash is None:
            auth.invite(
                signer,
                purpose=f"{purpose} First set a password; you will then see the {self.noun}.",
                next_path=signature_requests.path_for(link),
            )
            return
        outbox.queue(
            signer.email,
            ("Reminder: " if reminder is not None else "") + self.subject(case),
            f"Hello {signer.name},\n\n{purpose}\n\nRead and sign it here:\n{link}\n",
        )

    def remind(self, case: Any, row: Deadline | None) -> None:
        """A scheduled reminder (3, 7 and 14 days after the invitation, by default), or one a
        lead admin sent now (`row` None): every signer still asked gets the same link again."""
        now = clock.now()
        if row is None:  # sent now: the expiry it mentions is the pending one
            row = next(iter(deadlines.pending_for(self.machine.name, case.id)), None)
        for request_row in signature_requests.live(self.machine.name, case.id):
            signature_requests.reminded(request_row, at=now)
            link = signature_requests.link_of(request_row)
            self._mail(case, request_row.signer, link, reminder=row)

    def expire(self, case: Any, row: Deadline) -> Transition:
        """The request ran out unsigned: the case expires, its links stop working (the step
        into a final state ends them), and the lead agency's admins are told."""
        why = f"Not signed by the agency within the request's period ({row.rule_text})."
        transition = cases.advance(
            self.machine, case, "expire", None, {}, at=clock.now(), request=SYSTEM, reason=why
        )
        case.closed_reason = why
        title = self.title(case)
        for person in lead.admins():
            outbox.queue(
                person.email,
                f"Expired unsigned: {case.reference} ({case.agency.legal_name})",
                f"{title[:1].upper()}{title[1:]} expired without the agency's signature.\n\n"
                f"{self.page(case)}\n",
            )
        return transition

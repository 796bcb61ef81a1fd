"""Following up a request for a signature, for any process that declares how it asks
(`Process.signature`, portal/processes.py): a reminder sent now, a new link that replaces
the old one, the signer's `/sign/<secret>` link, the expiry the signer sees, and the
progress panel of a document's page.

The scheduled reminders and the expiry are the process's own deadlines; this module only
adds what a person does by hand, through the same machine and the same e-mails. Sending a
reminder now or a new link is for the lead agency's HMIS admins (a process's machine may
let others send a new link too, e.g. an agency's managers for a user agreement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal import clock
from portal.extensions import db
from portal.models import SignatureRequest, User
from portal.processes import Process, SignatureSteps, registry
from portal.services import audit, cases, deadlines, signature_requests
from portal.services.access import RequestInfo, actor_for, require_role
from portal.services.errors import Forbidden, NotFound, ServiceError
from portal.services.unit import unit_of_work

LEAD_ADMIN = "ssf_admin"


class Unusable(ServiceError):
    """A link that no longer leads anywhere: replaced, signed, ended, or never issued."""

    status = 410

    def __init__(self, message: str, *, status: int = 410) -> None:
        super().__init__(message)
        self.status = status


def _declared(case_type: str) -> tuple[Process, SignatureSteps]:
    """The process of `case_type` and how it asks for signatures; NotFound for anything
    else (the type comes from a URL)."""
    try:
        process = registry().get(case_type)
    except KeyError:
        raise NotFound() from None
    if process.signature is None:
        raise NotFound()
    return process, process.signature


def _only_lead_admins(user: User) -> None:
    require_role(
        user,
        LEAD_ADMIN,
        message="Only the lead agency's HMIS administrators may follow up a signature request.",
    )


def remind_now(
    user: User, case_type: str, case_id: int, request: RequestInfo
) -> list[SignatureRequest]:
    """E-mails each signer still asked their current link again, and counts the reminder.
    Returns the requests reminded."""
    with unit_of_work():
        _process, steps = _declared(case_type)
        case = steps.get(user, case_id)
        _only_lead_admins(user)
        waiting = signature_requests.live(case_type, case.id)
        if not waiting:
            raise ServiceError("Nobody is waiting to sign this document; no one to remind.")
        steps.remind(case, None)
        names = ", ".join(row.signer.name for row in waiting)
        audit.record(
            user,
            f"{case_type}.remind_now",
            case,
            f"Reminder sent now: {getattr(case, 'reference', case.id)} — to {names}",
            agency_id=case.agency_id,
            request=request,
            at=clock.now(),
        )
    return waiting


def resend(user: User, case_type: str, case_id: int, request: RequestInfo) -> Any:
    """Sends a new link: the machine's resend step (which starts the reminders and the
    expiry again, from now), every older link replaced, the new one e-mailed."""
    with unit_of_work("Someone else changed this document first. Reload it and try again."):
        process, steps = _declared(case_type)
        case = steps.get(user, case_id)
        if process.machine.state(case.state).terminal:
            raise ServiceError("This document is closed; no new link can be sent.")
        now = clock.now()
        steps.restart(case, now)  # the period counts from now (read by `cases.advance`)
        for row in signature_requests.live(case_type, case.id):
            row.replaced_at = now
        cases.advance(
            process.machine,
            case,
            steps.resend_event,
            user,
            {},
            at=now,
            request=request,
            reason="A new link to sign was sent; the older one no longer works.",
        )
        steps.ask(case, now)
    return case


def follow(user: User, token: str) -> str:
    """Where the signer's link leads (the document's signing page), recording their first
    view. Unusable for a link that no longer works, Forbidden for anyone but its signer."""
    with unit_of_work():
        row = signature_requests.by_token(token)
        if row is None:
            raise Unusable(
                "This link is not one the portal sent, or it was copied incompletely. Use the "
                "link in the most recent e-mail asking for your signature.",
                status=404,
            )
        why = signature_requests.why_not_usable(row)
        if why is not None:
            raise Unusable(why)
        if row.signer_id != user.id:
            raise Forbidden(
                "This link was sent to someone else. Only the person it was sent to may "
                "sign with it; sign in as them, or ask the lead agency for your own link."
            )
        _process, steps = _declared(row.case_type)
        case = steps.get(user, row.case_id)
        signature_requests.opened(row.case_type, row.case_id, user, at=clock.now())
        return steps.signing_page(case)


def opened(user: User, case_type: str, case_id: int) -> None:
    """The signer viewed the signing page: the first view is kept, later ones change
    nothing. Anyone else's view records nothing."""
    with unit_of_work():
        signature_requests.opened(case_type, case_id, user, at=clock.now())


@dataclass(frozen=True)
class Expiry:
    due_at: datetime
    rule_text: str


def expiry(case_type: str, case: Any) -> Expiry | None:
    """When the case's request for a signature expires, while it waits for one."""
    _process, steps = _declared(case_type)
    for row in deadlines.pending_for(case_type, case.id):
        if row.rule_name == steps.rule and row.state == case.state:
            return Expiry(row.due_at, row.rule_text)
    return None


@dataclass(frozen=True)
class Panel:
    """The progress panel of a document's page: each request, and the buttons."""

    case_type: str
    case_id: int
    rows: list[signature_requests.Progress]
    expiry: Expiry | None
    may_remind: bool
    may_resend: bool


def panel(user: User, case_type: str, case: Any) -> Panel:
    """What the page shows of the case's requests (the caller has checked `user` may see
    the case); the buttons only for the people who may use them, while the case waits."""
    process, steps = _declared(case_type)
    machine = process.machine
    resend_event = machine.event(steps.resend_event)
    waiting = bool(signature_requests.live(case_type, case.id))
    may_resend = (
        case.state in resend_event.sources
        and machine.blocker(resend_event, actor_for(user), {}) is None
    )
    return Panel(
        case_type=case_type,
        case_id=case.id,
        rows=signature_requests.progress(case_type, case.id),
        expiry=expiry(case_type, case),
        may_remind=waiting and user.role == LEAD_ADMIN,
        may_resend=may_resend,
    )


def case_page(case_type: str, case_id: int) -> str:
    """The page a follow-up button returns to (the case's own page)."""
    process, steps = _declared(case_type)
    case = db.session.get(process.model, case_id)
    return steps.case_page(case) if case is not None else "/"

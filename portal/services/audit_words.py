"""The audit log in words: one place that says what each action, record and change means.

An action `<machine>.<event>` is named by its machine's event label (the registry); every
other action is in `ACTIONS`. The page, the CSV export and the filter's choices all read
these, so a code name never reaches a reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.engine import Machine

# Actions that are not a step of a registered machine.
ACTIONS: dict[str, str] = {
    "login": "Signed in",
    "login_failed": "Failed to sign in",
    "login_locked": "Sign-in locked after failed attempts",
    "logout": "Signed out",
    "password_set": "Set a password from an invitation",
    "password_changed": "Changed their password",
    "password_reset": "Reset their password",
    "password_reset_requested": "Asked for a password reset",
    "two_factor.enabled": "Turned on two-step sign-in",
    "two_factor.disabled": "Turned off two-step sign-in",
    "two_factor.recovery_code_used": "Signed in with a recovery code",
    "access.refused": "Was refused a page",
    "access_request.create": "Requested HMIS access",
    "access_request.certificate": "Issued an HMIS access certificate",
    "account.deactivate_idle": "Deactivated an idle account",
    "account.idle_reminder": "Reminded an idle account",
    "account.reactivate": "Reactivated an account",
    "agency.register": "Registered an agency",
    "agency.designate_signer": "Designated who signs for an agency",
    "agency.designate_security_officer": "Designated a security officer",
    "agreement.create": "Started an agreement",
    "campaign.start": "Started a re-signing campaign",
    "default_notice.give": "Gave a notice of default",
    "termination_notice.give": "Gave a notice of termination",
    "esign.consent": "Agreed to sign electronically",
    "fee.record": "Recorded a participation fee",
    "hmis_reconciliation.upload": "Reconciled with an HMIS export",
    "holiday.add": "Added a holiday",
    "holiday.remove": "Removed a holiday",
    "program.add": "Added a program",
    "program.edit": "Changed a program",
    "program.grant_terminated": "Recorded a terminated grant",
    "recertification.campaign": "Opened a recertification campaign",
    "recertification.start_test": "Started a recertification test",
    "recertification.training_renewed": "Renewed training for recertification",
    "self_assessment.save": "Saved a security self-assessment",
    "separation.report": "Reported a separation",
    "suspension.start": "Suspended HMIS access",
    "template.publish": "Published an agreement template",
    "training.attendance": "Recorded training attendance",
    "training.course_create": "Created a training course",
    "training.course_update": "Changed a training course",
    "training.enrol": "Enrolled in a training session",
    "training.question_add": "Added a test question",
    "training.question_retire": "Retired a test question",
    "training.record_score": "Recorded a test score",
    "training.session_cancel": "Cancelled a training session",
    "training.session_schedule": "Scheduled a training session",
    "training.start_test": "Started a test",
    "training.submit_test": "Submitted a test",
    "training.test_expired": "A test ran out of time",
    "training.withdraw": "Withdrew from a training session",
    "user.deactivate": "Deactivated an account",
    "certificate.compromise": "Declared a signing key compromised",
    "document.evidence_renewed": "Renewed a document's evidence (document timestamp)",
    "pki.tsa_renewed": "Renewed the timestamping certificate",
}

# Field names in before/after that read better otherwise than capitalised.
FIELDS: dict[str, str] = {
    "hmis_role": "HMIS role",
    "sha256": "SHA-256",
    "email": "E-mail",
    "ip": "IP address",
}


def humane(code: str) -> str:
    text = code.replace(".", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def action_label(action: str, machines: Mapping[str, Machine]) -> str:
    """An action in words: its machine's event label, its `ACTIONS` entry, or (for an
    action nobody has named yet) its code name made readable."""
    if action in ACTIONS:
        return ACTIONS[action]
    name, _, event = action.partition(".")
    machine = machines.get(name)
    if machine is not None and event:
        try:
            return machine.event(event).label
        except ValueError:
            pass
    return humane(action)


def known_actions(machines: Mapping[str, Machine]) -> list[tuple[str, str]]:
    """Every action the portal records, as (code, words), in words' order: the filter's
    choices, read from the machines and `ACTIONS`, never from the table."""
    choices = dict(ACTIONS)
    for machine in machines.values():
        for event in machine.events:
            choices.setdefault(f"{machine.name}.{event.name}", f"{machine.label}: {event.label}")
    return sorted(choices.items(), key=lambda item: item[1].lower())


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def _value(field: str, value: Any, machine: Machine | None) -> str:
    if value is None or value == "":
        return "—"
    if field == "state" and machine is not None and isinstance(value, str):
        try:
            return machine.state(value).label
        except ValueError:
            return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_value(field, v, machine) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def changes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    machine: Machine | None = None,
) -> list[Change]:
    """Before and after as readable changes ("State: In effect → Terminated"), field by
    field, in the order they were recorded; a field that stayed the same is left out."""
    before, after = before or {}, after or {}
    names: Iterable[str] = list(dict.fromkeys([*before.keys(), *after.keys()]))
    out = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        label = FIELDS.get(name, humane(name))
        out.append(Change(label, _value(name, old, machine), _value(name, new, machine)))
    return out

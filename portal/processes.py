"""The process registry: each process is declared once and registered in `create_app`.

A declaration (`Process`) says everything the shared machinery needs to know about one
process: its machine and case model, the moment its periods count from, its deadline rules
(named, with their values in settings), what its timers and reminders do, its document
kinds, and what happens to an open case when its parent case ends.

`cases.advance`, the deadline sweep and the end-of-parent cascade read the registry; they
never import a process's service. Adding a process is its own files plus one line in
`portal.register_processes`. Nothing registers itself by being imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask import current_app

from workflows.engine import Machine


class Case(Protocol):
    """What every case model has: an id and the name of its current state."""

    id: int
    state: str


# What a timer or a reminder does, given the case and the due deadline row. A timer's
# handler returns the transition it recorded, or None if the case had moved on.
TimerHandler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class RuleSetting:
    """A deadline rule whose values are settings: `<setting>_DAYS`, `<setting>_BUSINESS_DAYS`
    and `<setting>_ROLL` (see portal/config.py for their defaults)."""

    setting: str
    title: str
    counted_from: str = "notice"  # what the period counts from, in words
    # The setting listing how many days before the end reminders go; "" for the portal-wide
    # REMINDER_DAYS_BEFORE (a recertification reminds 30, 7 and 1 days before).
    reminder_days: str = ""
    # True when `reminder_days` count forward from the period's start ("3, 7 and 14 days
    # after the request was sent") rather than back from its end.
    reminders_after_start: bool = False
    # True when each case carries its own end (its process's `period_end`, e.g. the day a
    # recertification lapses) instead of one counted in days: no `<setting>_DAYS` then.
    case_end: bool = False


@dataclass(frozen=True)
class Awaiting:
    """One thing that waits on a person, for their home page and for reminders: what it is,
    where to act, since when it has waited, and its deadline (with the rule) if it has one.
    `detail` says what is still missing, where that helps ("Lacks: the signed user
    agreement")."""

    case: Any
    title: str
    url: str
    since: datetime
    due_at: datetime | None = None
    rule: str = ""
    detail: str = ""


@dataclass(frozen=True)
class SignatureSteps:
    """How a process that waits for signatures asks for them, so the shared follow-up
    (portal/services/signature_followup.py: remind now, send a new link, the /sign/ links
    and the progress panel) works for it without importing its service."""

    resend_event: str  # the machine's event that sends a new link (restarts the timers)
    rule: str  # the deadline rule of the request's expiry, for "this request expires on …"
    # The case for a person, with the process's own visibility rules (NotFound otherwise).
    get: Callable[[Any, int], Any]
    # (Re)opens requests for the right signers and e-mails them their links, at the moment.
    ask: Callable[[Any, datetime], None]
    # E-mails each live request's signer its current link; the due reminder row, or None
    # for a reminder someone sent now.
    remind: Callable[[Any, Any], None]
    signing_page: Callable[[Any], str]  # where a signer's link leads
    case_page: Callable[[Any], str]  # where the progress panel is (back after a button)
    # Sets the moment the period counts from (e.g. `invited_at`) before a resend.
    restart: Callable[[Any, datetime], None] = lambda case, at: None


@dataclass(frozen=True)
class Process:
    machine: Machine
    model: type
    # The moment a case's periods count from (notice given), or None for a case without.
    period_start: Callable[[Any], datetime | None] = lambda case: None
    # An end a case keeps when it re-enters a timed state (a rejected cure does not extend
    # the cure period): (due_at, rule in words), or None to compute it afresh.
    period_end: Callable[[Any], tuple[datetime, str] | None] = lambda case: None
    rules: Mapping[str, RuleSetting] = field(default_factory=dict)
    on_timer: TimerHandler | None = None
    on_reminder: TimerHandler | None = None
    documents: tuple[str, ...] = ()
    # The parent process (by machine name), the case attribute holding the parent's id, and
    # the event fired on an open case of this process when its parent case ends.
    parent: str | None = None
    parent_key: str = ""
    on_parent_end: str | None = None
    # What waits on a person in this process, for their home page ("what awaits me") and
    # the reminder e-mails: the person → their open cases that wait on them (or, for the
    # agency's people, that they follow), each as an Awaiting.
    awaiting: Callable[[Any], list[Awaiting]] | None = None
    # How the process asks for signatures, if it does (reminders now, new links, progress).
    signature: SignatureSteps | None = None

    @property
    def name(self) -> str:
        return self.machine.name

    def check(self) -> None:
        """Refuses a declaration that the sweep or the cascade could not act on."""
        where = f"Process {self.name!r}"
        for timer in self.machine.timers:
            if timer.rule_name not in self.rules:
                raise ValueError(
                    f"{where}: its timer names the undeclared rule {timer.rule_name!r}."
                )
        if self.machine.timers and self.on_timer is None:
            raise ValueError(f"{where} has timers but no timer handler.")
        if self.signature is not None:
            self.machine.event(self.signature.resend_event)  # refuses an unknown event
            if self.signature.rule not in self.rules:
                raise ValueError(f"{where}: its signature rule is not declared.")
        if self.parent is not None:
            if not self.parent_key or self.on_parent_end is None:
                raise ValueError(f"{where} names a parent but not its key and closing event.")
            event = self.machine.event(self.on_parent_end)
            if not self.machine.by_portal_only(event):
                raise ValueError(f"{where}: {event.name!r} must be fired by the portal alone.")
            for state in self.machine.states:
                if not state.terminal and state.name not in event.sources:
                    raise ValueError(
                        f"{where}: an open case in {state.name!r} would outlive its parent."
                    )


class Registry:
    """The processes of one app, in the order they were registered."""

    def __init__(self) -> None:
        self._processes: dict[str, Process] = {}

    def register(self, process: Process) -> None:
        process.check()
        if process.name in self._processes:
            raise ValueError(f"The process {process.name!r} is registered twice.")
        if process.parent is not None and process.parent not in self._processes:
            raise ValueError(f"Register {process.parent!r} before its child {process.name!r}.")
        for other in self._processes.values():
            clash = set(other.rules) & set(process.rules)
            if clash:
                raise ValueError(f"The deadline rule {sorted(clash)[0]!r} is declared twice.")
        self._processes[process.name] = process

    def __iter__(self) -> Iterator[Process]:
        return iter(self._processes.values())

    def get(self, name: str) -> Process:
        try:
            return self._processes[name]
        except KeyError:
            raise KeyError(f"No process named {name!r} is registered.") from None

    def children_of(self, name: str) -> list[Process]:
        return [p for p in self._processes.values() if p.parent == name]

    def rule(self, name: str) -> RuleSetting:
        for process in self._processes.values():
            if name in process.rules:
                return process.rules[name]
        raise KeyError(f"No deadline rule named {name!r}.")


def registry() -> Registry:
    """The registry of the current app."""
    return current_app.extensions["portal.processes"]

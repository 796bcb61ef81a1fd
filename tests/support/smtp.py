"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for mail tests."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False  # when True the server answers 451, as a failing relay would

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        if self.refuse:
            return "451 Requested action aborted: local error"
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def deliver(self) -> int:
        """Runs the scheduler's mail job once, as it does every few seconds; returns how many
        messages it sent. Requests only queue e-mail, so tests call this before reading."""
        from flask import current_app

        from portal import jobs

        return jobs.deliver_mail(current_app._get_current_object())

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def clear(self) -> None:
        self.messages.clear()
        self.refuse = False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, box
    controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Iterator[Mailbox]:
    _, box = smtp_server
    box.clear()
    yield box
    box.clear()

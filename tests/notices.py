"""Giving notices in tests through the real services (each certifies and signs a real PDF),
for tests whose subject is what follows: deadlines, pages, the registry, a journey."""

from __future__ import annotations

from portal.models import DefaultNotice, TerminationNotice
from portal.services import default_notices, terminations
from tests.conftest import PASSWORD
from tests.services.helpers import REQ


def give_default(actor, agreement, **overrides) -> DefaultNotice:
    """A notice of default for one late separation report (V.E.12), signed by `actor`."""
    fields = dict(
        provisions=["V.E.12"],
        description="Separations were reported late.",
        cure_required="Report every separation within one business day.",
        password=PASSWORD,
        intent=True,
        consent=True,
        request=REQ,
    )
    fields.update(overrides)
    return default_notices.give(actor, agreement.id, **fields)


def give_termination(actor, agreement, **overrides) -> TerminationNotice:
    """Notice of termination for convenience (VIII.B.1), signed by `actor`."""
    fields = dict(reason="", password=PASSWORD, intent=True, consent=True, request=REQ)
    fields.update(overrides)
    return terminations.give(actor, agreement.id, **fields)

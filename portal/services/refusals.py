"""Refused authorization attempts, kept in the audit log (IV.B.3).

A service raises Forbidden when a signed-in person tries what their role or side does not
allow; portal/views/common.refuse records it here, once for every page. NotFound is not
recorded: it also answers mistyped and stale links, and the audit log is for what a person
tried to do, not for every missing page.
"""

from __future__ import annotations

from portal.models import User
from portal.services import audit
from portal.services.access import RequestInfo
from portal.services.unit import unit_of_work


def record(user: User, path: str, message: str, request: RequestInfo) -> None:
    """Records, in a transaction of its own (the refused change was rolled back), that the
    person was refused at `path`."""
    with unit_of_work():
        audit.record(
            user,
            "access.refused",
            user,
            f"Refused at {path[:500]}: {message}",
            agency_id=user.agency_id,
            after={"path": path[:500]},
            request=request,
        )

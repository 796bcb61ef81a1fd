"""Short-lived counters shared by every worker and host: the throttle's storage (Redis when
REDIS_URL is set, the process's memory otherwise). For what has no row to live in: failed
sign-ins at addresses without an account, and two-factor codes already used."""

from __future__ import annotations

import logging

from limits.storage import Storage

from portal.extensions import limiter

log = logging.getLogger("portal.services.counters")


def storage() -> Storage | None:
    """The storage, or None when there is none or it does not answer (Redis down): callers
    then go on without it."""
    try:
        found = limiter.storage
    except AssertionError:  # the limiter was never bound to an app
        return None
    try:
        return found if found.check() else None
    except Exception:  # a storage's own errors vary by backend
        log.warning("the throttle's storage does not answer", exc_info=True)
        return None

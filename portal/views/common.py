"""Small helpers every blueprint uses: who is asking, and showing a service's refusal."""

from __future__ import annotations

from flask import abort, flash, request
from flask_login import current_user

from portal.services import refusals
from portal.services.access import RequestInfo
from portal.services.errors import Forbidden, NotFound, ServiceError


def request_info() -> RequestInfo:
    # Behind a proxy, ProxyFix (configured by the deployer) makes remote_addr the client's.
    return RequestInfo(
        ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", "")
    )


def refuse(error: ServiceError) -> None:
    """NotFound becomes a 404 page; any other refusal is shown above the form. A Forbidden
    is audited here, once for every page (portal/services/refusals.py)."""
    if isinstance(error, NotFound):
        abort(404)
    if isinstance(error, Forbidden) and current_user.is_authenticated:
        refusals.record(current_user, request.path, error.message, request_info())
    flash(error.message, "danger")


def version_of(form) -> int | None:
    raw = (form.lock_version.data or "").strip()
    return int(raw) if raw.isdigit() else None


def page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def cursor_args() -> dict[str, int | None]:
    """A keyset page's cursor from the query string (?after=ID or ?before=ID), for
    portal/services/keyset.py; anything else is ignored."""

    def number(name: str) -> int | None:
        raw = request.args.get(name, "")
        return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None

    return {"after": number("after"), "before": number("before")}

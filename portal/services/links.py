"""Links to the portal's own pages, for e-mails: the PORTAL_BASE_URL setting, read here."""

from __future__ import annotations

from flask import current_app


def page(path: str) -> str:
    """The full address of a page of the portal, e.g. page("/notices/default/7")."""
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + path

"""Blueprints: thin views that parse a form, call one service, render or redirect."""

from portal.views import (
    agencies,
    agreements,
    audit,
    auth,
    calendar,
    default_notices,
    documents,
    health,
    home,
    remedies,
    suspensions,
    templates_admin,
    termination_notices,
    verify,
)

blueprints = [
    auth.bp,
    home.bp,
    agencies.bp,
    agreements.bp,
    documents.bp,
    templates_admin.bp,
    audit.bp,
    verify.bp,
    remedies.bp,
    default_notices.bp,
    termination_notices.bp,
    suspensions.bp,
    calendar.bp,
    health.bp,
]

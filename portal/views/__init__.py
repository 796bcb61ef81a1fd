"""Blueprints: thin views that parse a form, call one service, render or redirect."""

from portal.views import agencies, agreements, audit, auth, documents, home, templates_admin, verify

blueprints = [
    auth.bp,
    home.bp,
    agencies.bp,
    agreements.bp,
    documents.bp,
    templates_admin.bp,
    audit.bp,
    verify.bp,
]

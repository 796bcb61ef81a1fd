"""Shared fixtures: the app on SQLite (default) or PostgreSQL (TEST_DATABASE_URL), a real SMTP
server, the test PKI, and people to act as.

The database is migrated once per session with the project's Alembic migrations and emptied
after every test, so each test starts from nothing and the migrations themselves are tested.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

pytest_plugins = ["tests.support.pki", "tests.support.seaweed", "tests.support.smtp"]

PASSWORD = "correct horse battery staple"


@contextmanager
def fresh_postgres_database(base: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `base`; dropped afterwards.

    Tests never write into the shared database itself, so runs cannot see each other's data.
    """
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield re.sub(r"/[^/]*$", f"/{name}", base)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"
        return
    with fresh_postgres_database(base) as url:
        yield url


@pytest.fixture(scope="session")
def app_config(database_url, pki_dir, pki_passphrase, smtp_server, tmp_path_factory):
    from portal.config import Config

    instance = tmp_path_factory.mktemp("instance")
    controller, _ = smtp_server
    return Config(
        instance_path=instance,
        TESTING=True,
        SQLALCHEMY_DATABASE_URI=database_url,
        STORAGE_URL=(instance / "documents").as_uri(),
        PKI_DIR=str(pki_dir),
        PKI_PASSPHRASE=pki_passphrase.decode(),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=controller.port,
        ARGON2_FAST=True,
        PORTAL_BASE_URL="http://portal.test",
        SECRET_KEY="test-secret",
        # The suite signs in far more often than a person could; the throttle's own tests
        # turn it on.
        THROTTLE_ENABLED=False,
    )


@pytest.fixture(scope="session")
def _app(app_config):
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app(app_config)
    with app.app_context():
        upgrade()

    @app.before_request
    def _fresh_csrf_token() -> None:
        # The tests' requests share the test's app context, so `g` outlives a request; in a
        # server each request has its own. Flask-WTF caches the CSRF token in `g`: without
        # this, a session that ended (logout, a timeout) would never get its new token.
        from flask import g

        g.pop("csrf_token", None)
        g.pop("_login_user", None)  # Flask-Login's user of the request, likewise

    return app


@pytest.fixture
def app(_app, mailbox):
    """The app in a context, with an empty database and its normal parts after the test."""
    from portal.extensions import db

    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
        _app.extensions.get("portal", {}).pop("storage", None)
        _app.extensions.get("portal", {}).pop("signer", None)
        _empty(db)


def _empty(db) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Cast:
    """The people of a typical case: SSF staff and two partner agencies."""

    admin: object
    signatory: object
    auditor: object
    agency: object
    ed: object
    officer: object
    other_agency: object
    other_ed: object


@pytest.fixture
def cast(app, mailbox) -> Cast:
    """SSF's staff and two partner agencies with their people, each with PASSWORD set.

    The portal's own first-run setup makes the lead agency, the shipped template and the
    holiday calendar; the people and agencies are rows from tests/factories.py, as if
    registered and invited (tests/services/test_agency_registration.py and the auth pages
    test those services themselves). Nothing is queued for the mailbox.
    """
    from portal.services import setup
    from tests import factories

    setup.initialize()
    admin = factories.lead_person(
        email="admin@ssf.test", name="Ada Admin", title="HMIS Administrator", role="ssf_admin"
    )
    signatory = factories.lead_person(
        email="sign@ssf.test", name="Sol Signer", title="CEO", role="ssf_signatory"
    )
    auditor = factories.lead_person(
        email="audit@ssf.test", name="Aud Itor", title="Auditor", role="auditor"
    )

    def register(name: str, ed_email: str, so_email: str):
        agency = factories.agency(name, created_by=admin)
        ed = factories.person(
            agency,
            email=ed_email,
            name="Eve Director",
            title="Executive Director",
            role="agency_ed",
        )
        so = factories.person(
            agency,
            email=so_email,
            name="Sam Officer",
            title="Security Officer",
            role="agency_security_officer",
        )
        return agency, ed, so

    agency, ed, officer = register("Hope & Harbor <Shelter>", "ed@hope.test", "so@hope.test")
    other, other_ed, _ = register("Other Agency", "ed@other.test", "so@other.test")
    mailbox.clear()
    return Cast(admin, signatory, auditor, agency, ed, officer, other, other_ed)


class AuthActions:
    """Logs a person in through the real login form (CSRF token and all)."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD):
        page = self.client.get("/login")
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf_token(page)}
        )

    def logout(self):
        page = self.client.get("/", follow_redirects=True)
        return self.client.post("/logout", data={"csrf_token": csrf_token(page)})


def csrf_token(response) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', response.data) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', response.data
    )
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


def form_key(response) -> str:
    """The one-time key of the form on the page (a form that gives a notice has one)."""
    match = re.search(rb'name="form_key"[^>]*value="([^"]+)"', response.data) or re.search(
        rb'value="([^"]+)"[^>]*name="form_key"', response.data
    )
    assert match, "no form key on the page"
    return match.group(1).decode()


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)

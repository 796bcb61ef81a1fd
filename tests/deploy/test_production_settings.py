"""PORTAL_ENV=production refuses unsafe settings and never runs the debugger; elsewhere a
generated SECRET_KEY is said out loud."""

from __future__ import annotations

import logging

import pytest
from flask.cli import ScriptInfo
from flask.helpers import get_debug_flag

from portal import config as config_module
from portal import create_app
from portal.config import Config, UnsafeSettings

POSTGRES = "postgresql+psycopg://portal@db.example/portal"


@pytest.fixture
def production(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "PKI_PASSPHRASE", "DATABASE_URL", "PORTAL_ALLOW_SQLITE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    return monkeypatch


def test_production_names_everything_missing(production, tmp_path):
    with pytest.raises(UnsafeSettings) as refused:
        Config()
    message = str(refused.value)
    assert "PORTAL_ENV=production refuses to start" in message
    for name in ("SECRET_KEY", "PKI_PASSPHRASE", "DATABASE_URL", "PORTAL_ALLOW_SQLITE=1"):
        assert name in message
    # Nothing was generated to stand in for the missing secrets.
    assert not (tmp_path / "secret-key").exists()
    assert not (tmp_path / "pki-passphrase").exists()


def test_production_with_its_settings_starts(production):
    production.setenv("SECRET_KEY", "s" * 40)
    production.setenv("PKI_PASSPHRASE", "p" * 20)
    production.setenv("DATABASE_URL", POSTGRES)
    config = Config()
    assert config.SECRET_KEY == "s" * 40 and config.DEBUG is False


def test_production_on_sqlite_only_when_allowed(production):
    production.setenv("SECRET_KEY", "s" * 40)
    production.setenv("PKI_PASSPHRASE", "p" * 20)
    with pytest.raises(UnsafeSettings, match="DATABASE_URL") as refused:
        Config()
    assert "SECRET_KEY" not in str(refused.value)
    production.setenv("PORTAL_ALLOW_SQLITE", "1")
    assert Config().SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")


def test_flask_debug_never_turns_on_the_debugger_in_production(production):
    production.setenv("SECRET_KEY", "s" * 40)
    production.setenv("PKI_PASSPHRASE", "p" * 20)
    production.setenv("PORTAL_ALLOW_SQLITE", "1")
    production.setenv("FLASK_DEBUG", "1")
    # What `flask run` does: load the app, set app.debug from FLASK_DEBUG, then choose the
    # debugger and the reloader from FLASK_DEBUG.
    app = ScriptInfo(create_app=create_app).load_app()
    assert app.debug is False
    assert get_debug_flag() is False


def test_flask_debug_still_works_in_development(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = ScriptInfo(create_app=lambda: create_app(Config(instance_path=tmp_path))).load_app()
    assert app.debug is True


def test_generated_secret_key_is_logged_once(monkeypatch, tmp_path, caplog):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config_module, "_warned_secret_key", False)
    with caplog.at_level(logging.WARNING, logger="portal.config"):
        first = Config(instance_path=tmp_path / "a")
        Config(instance_path=tmp_path / "b")
        Config(instance_path=tmp_path / "c", SECRET_KEY="given")
    warnings = [r for r in caplog.records if r.name == "portal.config"]
    assert len(warnings) == 1
    assert "SECRET_KEY is not set" in warnings[0].getMessage()
    assert (tmp_path / "a" / "secret-key").read_text().strip() == first.SECRET_KEY
    assert not (tmp_path / "c" / "secret-key").exists()

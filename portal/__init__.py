"""The HMIS Partner Portal application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from werkzeug.routing import IntegerConverter

from portal import query_count, serving, throttle
from portal.config import Config
from portal.extensions import bootstrap, csrf, db, login_manager, migrate
from portal.sessions import ServerSessionInterface


class RecordId(IntegerConverter):
    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Config | None = None, **overrides: Any) -> Flask:
    config = config or Config(**overrides)
    app = Flask(
        __name__,
        instance_path=config.INSTANCE_PATH,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(config)
    # Every `<int:…>` in a route is a record id: one larger than an id column holds (32-bit
    # INTEGER on PostgreSQL) matches no route, so it is a 404 rather than an error in the query.
    app.url_map.converters["int"] = RecordId
    # Logging is the host process's to configure (portal/logs.py), never the factory's.
    serving.install(app)
    app.extensions["portal.factory"] = create_app  # for commands that make a throwaway app
    _register_revocation(app)
    register_extensions(app)
    register_processes(app)
    register_blueprints(app)
    throttle.install(app)  # after the blueprints: it limits some of their views
    query_count.install(app)  # only with QUERY_COUNT_HEADER (the page bench and its tests)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (registers the tables)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_root() / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    app.session_interface = ServerSessionInterface()
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> Any:
        from portal.models import User
        from portal.services import standing

        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        # A deactivation (idle, separated) or a suspension takes effect at once, also for
        # people already signed in: Flask-Login itself checks `is_active` only at sign-in.
        if user is None or not user.active or standing.active_for_user(user) is not None:
            return None
        return user


def _register_revocation(app: Flask) -> None:
    """Where the signer finds the current CRLs and OCSP answers for each signature's DSS.

    Handed over here rather than imported by portal.runtime: the revocation service itself
    needs the runtime's PKI.
    """
    from portal.services.revocation import current_crls, ocsp_response

    app.extensions["portal.revocation"] = (current_crls, ocsp_response)


def register_processes(app: Flask) -> None:
    """Every process the portal runs, declared in its own service; a parent before its
    children. Adding a process is one line here."""
    from portal.processes import Registry
    from portal.services import (
        access_requests,
        agreements,
        campaign_steps,
        default_notices,
        onboarding,
        recertification,
        self_assessments,
        suspensions,
        terminations,
    )

    registry = app.extensions["portal.processes"] = Registry()
    registry.register(agreements.PROCESS)
    registry.register(campaign_steps.PROCESS)
    from portal.services import amendments

    registry.register(amendments.PROCESS)
    registry.register(default_notices.PROCESS)
    registry.register(terminations.PROCESS)
    registry.register(suspensions.PROCESS)
    registry.register(access_requests.PROCESS)
    registry.register(onboarding.PROCESS)
    registry.register(recertification.PROCESS)
    registry.register(self_assessments.PROCESS)
    from portal.services import separations

    registry.register(separations.PROCESS)
    from portal.services import reallocations, site_visits

    registry.register(reallocations.PROCESS)
    registry.register(site_visits.PROCESS)


def register_blueprints(app: Flask) -> None:
    from portal.api import api
    from portal.views import blueprints

    for bp in blueprints:
        app.register_blueprint(bp)
    app.register_blueprint(api)


def register_errorhandlers(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import HTTPException

    from portal.api import errors as api_errors

    # Under /api/ every error is JSON (portal/api/errors.py), also those raised before a
    # view is found (an unknown path, a wrong method, an id beyond the RecordId limit).
    def render(status: int, title: str, message: str, err: Exception | None = None) -> Any:
        if api_errors.under_api():
            if isinstance(err, HTTPException):
                return api_errors.from_http_exception(err)
            return api_errors.error_response(status)
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError) -> Any:
        return render(
            400,
            "The form expired",
            "This form was already used or has expired. Go back, reload the page and try again.",
        )

    @app.errorhandler(api_errors.ApiError)
    def api_error(err: api_errors.ApiError) -> Any:
        return api_errors.from_api_error(err)

    @app.errorhandler(HTTPException)
    def other_http_error(err: HTTPException) -> Any:
        # The pages keep werkzeug's own answer for the statuses without a page of their own.
        return api_errors.from_http_exception(err) if api_errors.under_api() else err

    handlers = {
        403: ("Not allowed", "You do not have access to that page."),
        404: ("Not found", "That page or record does not exist, or it is not yours to see."),
        405: ("Not allowed", "That action is not available here."),
        413: ("File too large", "The file is larger than the portal accepts."),
        500: ("Something went wrong", "The portal could not finish this. Nothing was changed."),
    }
    for status, (title, message) in handlers.items():
        app.register_error_handler(
            status, lambda err, s=status, t=title, m=message: render(s, t, m, err)
        )


def register_commands(app: Flask) -> None:
    from portal.cli import commands

    for command in commands:
        app.cli.add_command(command)


def register_template_helpers(app: Flask) -> None:
    from portal.views import filters

    filters.register(app)


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent

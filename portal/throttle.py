"""Throttles per client address: sign-in, /verify, /tsa and the JSON API.

Each limit is a setting (LOGIN_RATE_LIMIT, VERIFY_RATE_LIMIT, TSA_RATE_LIMIT, API_RATE_LIMIT),
read at each request so a deployment (or a test) can change it. The counts live in Redis when
REDIS_URL is set, so every worker and host shares them; in the process's memory otherwise.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, render_template, request
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests

from portal.api import errors as api_errors
from portal.extensions import limiter

# Endpoints whose POST is throttled: the setting that holds the limit, and the count it
# draws on. Sign-in's steps share one count: a password guess and a code guess cost alike.
POST_LIMITS = {
    "auth.login": ("LOGIN_RATE_LIMIT", "sign-in"),
    "auth.second_factor": ("LOGIN_RATE_LIMIT", "sign-in"),
    "auth.forgot_password": ("LOGIN_RATE_LIMIT", "sign-in"),
    "auth.reset_password": ("LOGIN_RATE_LIMIT", "sign-in"),
    "verify.index": ("VERIFY_RATE_LIMIT", "verify"),
    "tsa.respond": ("TSA_RATE_LIMIT", "tsa"),
    "pki.ocsp_post": ("OCSP_RATE_LIMIT", "ocsp"),
}


class QuietMemoryStorage(MemoryStorage):
    """The in-memory counts (no REDIS_URL), with their expiry timer as a daemon thread.

    The library's own timer is not a daemon: every process that made an app (a command, a
    test's child process) waited for it at exit, and under a shifted clock (the suite's run
    400 days ahead) that wait never ended in time.
    """

    STORAGE_SCHEME = ["portal-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the library's, started above: it ends at once; ours follow
        self._start_timer()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (the library's name)
        if not self.timer.is_alive():
            self._start_timer()

    def _start_timer(self) -> None:
        self.timer = threading.Timer(0.01, self._MemoryStorage__expire_events)
        self.timer.daemon = True
        self.timer.start()


def install(app: Flask) -> None:
    """Binds the limiter and applies the limits to the views (call after the blueprints)."""
    limiter.init_app(app)

    @limiter.request_filter
    def _off() -> bool:
        return not current_app.config.get("THROTTLE_ENABLED", True)

    # The limiter keeps its limits by view and blueprint name, for every app it serves: each
    # is declared once per process (a second app — a command's, a test's — reuses them;
    # declaring again would count every request twice).
    for endpoint, (setting, scope) in POST_LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            if view not in _limited:
                limit = limiter.shared_limit(_setting(setting), scope=scope, methods=["POST"])
                _limited[view] = limit(view)
            app.view_functions[endpoint] = _limited[view]
    api = app.blueprints.get("api")
    if api is not None and api not in _limited:
        # One count for the whole API: many cheap requests cost as much as a few dear ones.
        limiter.shared_limit(_setting("API_RATE_LIMIT"), scope="api")(api)
        _limited[api] = api
    app.register_error_handler(429, too_many_requests)


_limited: dict[object, object] = {}


def _setting(name: str):
    return lambda: current_app.config[name]


def too_many_requests(err: TooManyRequests):
    message = "Too many requests from your address in a short time. Wait a minute and try again."
    if request.path.startswith("/api/"):
        headers = {k: v for k, v in err.get_headers() if k.lower() != "content-type"}
        return api_errors.error_response(429, message=message, headers=headers)
    page = render_template("error.html", title="Too many requests", message=message)
    return page, 429

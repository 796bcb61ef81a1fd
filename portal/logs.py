"""Logs: one JSON object per line in production (LOG_FORMAT=json), readable text in
development (LOG_FORMAT=text); either way each line of a request carries its request id.

Logging is configured once per process by whatever starts it (`wsgi.py`, which both gunicorn
and `flask --app wsgi …` import, and `deploy/gunicorn.conf.py`), never by `create_app`: an app
factory runs many times in one process (the tests, the demo command) and must not stack
handlers or override the host's choice.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, current_app, has_request_context, request
from gunicorn.glogging import Logger as GunicornLogger

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it looks like an id (nginx's $request_id, a UUID, …):
# anything else could smuggle text into the logs or the response header.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_HANDLER_NAME = "portal-json"
_ENVIRON_KEY = "portal.request_id"


class JsonFormatter(logging.Formatter):
    """Each record as one JSON object: time (UTC), level, logger, message, pid, request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = getattr(record, "request_id", None) or current_request_id()
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """One readable line per record (multi-line messages, such as an e-mail printed in
    development, stay as they are), with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None) or current_request_id()
        return f"{line} [request {rid}]" if rid else line


def log_format(environ: Mapping[str, str] = os.environ) -> str:
    """LOG_FORMAT ("json" or "text"); JSON by default in production, text otherwise."""
    chosen = environ.get("LOG_FORMAT", "").strip().lower()
    if chosen in {"json", "text"}:
        return chosen
    return "json" if environ.get("PORTAL_ENV", "").strip().lower() == "production" else "text"


def configure(
    level: int = logging.INFO, stream: IO[str] | None = None, fmt: str | None = None
) -> None:
    """Sends every log record of this process to stderr, as JSON lines or readable text
    (`log_format`); a second call does nothing."""
    root = logging.getLogger()
    if any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    json_lines = (fmt or log_format()) == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def current_request_id() -> str | None:
    """The id of the request being served in this thread, None outside a request."""
    if not has_request_context():
        return None
    # Kept in the request's environ rather than `g`: an app context (and its `g`) may
    # outlive one request, as in tests and CLI code that serve requests inside one.
    environ = request.environ
    if _ENVIRON_KEY not in environ:
        environ[_ENVIRON_KEY] = _incoming_id() or uuid.uuid4().hex
    return environ[_ENVIRON_KEY]


def _incoming_id() -> str | None:
    # Only a trusted proxy's header counts: a client could otherwise choose ids that make
    # its requests look like someone else's in the logs.
    if not current_app.config.get("TRUSTED_PROXIES"):
        return None
    raw = request.headers.get(REQUEST_ID_HEADER, "")
    return raw if _ACCEPTABLE_ID.fullmatch(raw) else None


def install_request_ids(app: Flask) -> None:
    """Gives every request an id (assigned first thing) and returns it in X-Request-ID."""

    @app.before_request
    def assign_request_id() -> None:
        current_request_id()

    @app.after_request
    def return_request_id(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = current_request_id() or ""
        return response


class JsonAccessLogger(GunicornLogger):
    """Gunicorn's logger with JSON lines: its own messages and one access line per request."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info(json.dumps(access_entry(resp, environ, request_time)))
        except Exception:  # a log line must never fail the request it describes
            self.error_log.exception("could not write the access log line")


def access_entry(resp: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
    """The access line's fields. REMOTE_ADDR is the client's when ProxyFix is on, as ProxyFix
    rewrites the environ gunicorn passed to the app."""
    status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
    headers = dict((k.lower(), v) for k, v in (resp.headers or []))
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "INFO",
        "logger": "gunicorn.access",
        "message": f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} {status}",
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "query": environ.get("QUERY_STRING") or None,
        "status": int(status),
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 1),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "user_agent": environ.get("HTTP_USER_AGENT"),
        "referer": environ.get("HTTP_REFERER"),
    }
    if REQUEST_ID_HEADER.lower() in headers:
        entry["request_id"] = headers[REQUEST_ID_HEADER.lower()]
    return entry

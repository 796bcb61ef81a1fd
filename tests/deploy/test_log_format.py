"""Logs are JSON lines in production and readable text in development (LOG_FORMAT wins)."""

import io
import json
import logging

from portal import logs


def test_the_format_follows_the_environment():
    assert logs.log_format({}) == "text"
    assert logs.log_format({"PORTAL_ENV": "production"}) == "json"
    assert logs.log_format({"PORTAL_ENV": "production", "LOG_FORMAT": "text"}) == "text"
    assert logs.log_format({"LOG_FORMAT": "JSON"}) == "json"
    assert logs.log_format({"LOG_FORMAT": "xml"}) == "text"


def test_text_keeps_a_printed_email_readable_and_json_stays_one_line():
    record = logging.LogRecord("portal.mail", logging.INFO, __file__, 1, "To: a\n\nBody", (), None)
    assert logs.TextFormatter().format(record).endswith("portal.mail: To: a\n\nBody")
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line and json.loads(line)["message"] == "To: a\n\nBody"


def test_configure_installs_one_handler_of_the_chosen_format(monkeypatch):
    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        root.handlers = [h for h in root.handlers if h.get_name() != "portal-json"]
        stream = io.StringIO()
        logs.configure(stream=stream, fmt="text")
        logs.configure(stream=stream, fmt="json")  # a second call changes nothing
        logging.getLogger("portal.test").warning("hello")
        assert stream.getvalue().rstrip().endswith("portal.test: hello")
    finally:
        root.handlers = saved

"""The number of SQL statements a request ran, in an `X-Query-Count` response header.

Off by default; QUERY_COUNT_HEADER=1 turns it on. Only the page bench (bench/pages.py) and
the query-count tests (tests/views/test_query_counts.py) use it: they read the header to
see that a page's queries stay bounded, whatever the data's size.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

HEADER = "X-Query-Count"
_listening = False


def _count(*_args: object, **_kwargs: object) -> None:
    # Only inside a request of an app that counts (it set the counter); any other engine use
    # in the process (a command, another app in the tests) is left alone.
    if has_app_context() and "query_count" in g:
        g.query_count += 1


def install(app: Flask) -> None:
    """Counts each request's statements while the app's QUERY_COUNT_HEADER is set (read at
    each request, so a test may turn it on for a while)."""
    global _listening
    if not _listening:
        event.listen(Engine, "before_cursor_execute", _count)
        _listening = True

    def start() -> None:
        if current_app.config.get("QUERY_COUNT_HEADER"):
            g.query_count = 0

    # First of the request's hooks, so the statements of the others (loading the person
    # signed in, the throttle) are counted too.
    app.before_request_funcs.setdefault(None, []).insert(0, start)

    @app.after_request
    def report(response: Response) -> Response:
        if "query_count" in g:
            response.headers[HEADER] = str(g.query_count)
        return response

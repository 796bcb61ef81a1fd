"""A live server on 127.0.0.1 and the system Chromium driven by Playwright."""

from __future__ import annotations

import socket
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"

# A signature renders, signs and timestamps a PDF: on a busy 2-core machine a step can take
# longer than Playwright's default 5 s before the next page shows.
expect.set_options(timeout=20_000)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture
def live_server(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API keeps an event loop running in this thread while it
    # is open, which other tests (that run their own loop) must not inherit.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def person(browser, live_server):
    """Opens a fresh browser context per person and logs them in."""
    contexts = []

    def open_as(email: str, password: str):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server + "/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()

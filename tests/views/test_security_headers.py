"""Security headers on every response, the session cookie, and record ids no column holds."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from portal.headers import PAGE_POLICY
from tests import factories

HUGE_IDS = (2**31, 2**63 + 1, 10**30)


def test_pages_carry_a_policy_without_inline_script_and_refuse_framing(client, cast, auth):
    auth.login("admin@ssf.test")
    for url in ("/", "/login", f"/agencies/{cast.agency.id}", "/audit/", "/verify"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in policy
            and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        ), url
        assert "frame-ancestors 'none'" in policy and headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_no_page_has_an_inline_script(client, cast, auth):
    """What the policy forbids, no template may need: every <script> has a src."""
    auth.login("admin@ssf.test")
    for url in ("/", f"/agencies/{cast.agency.id}", "/audit/", "/access-requests/", "/training/"):
        html = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts and all("src=" in tag for tag in scripts), url
        assert not re.search(r"\son[a-z]+=", html), url  # no onclick= and the like


def test_a_pdf_may_be_framed_by_the_portal_only(client, cast, auth):
    agreement = factories.agreement(cast.agency, state="sent", documents=True)
    auth.login("ed@hope.test")
    response = client.get(f"/documents/versions/{agreement.document.current.id}.pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_https_adds_hsts(client):
    response = client.get("/login", base_url="https://portal.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY


@pytest.mark.parametrize("env, secure", [("development", False), ("staging", True)])
def test_the_session_cookie_is_secure_outside_development(monkeypatch, env, secure):
    from portal.config import Config

    monkeypatch.setenv("PORTAL_ENV", env)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert Config(SECRET_KEY="x").SESSION_COOKIE_SECURE is secure


def test_every_route_answers_404_for_an_id_no_column_holds(app, client, cast, auth):
    """Each route with a record id, with ids beyond a 32-bit INTEGER: never a 500."""
    auth.login("admin@ssf.test")
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True)
    )
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [n for n, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if not ints:
            continue
        for huge in HUGE_IDS:
            values = {name: huge for name in rule.arguments}
            for name, conv in rule._converters.items():
                if name not in ints:  # a word: the first an `any(…)` allows, or any
                    values[name] = sorted(getattr(conv, "items", None) or ["x"])[0]
            url = rule.build(values, append_unknown=False)[1]
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                data = {"csrf_token": token.group(1)} if token else {}
                response = client.open(url, method=method, data=data)
                # Not found (or, where another route shares the path, not allowed): never 500.
                assert response.status_code in (404, 405), (method, url, response.status_code)
                checked += 1
    assert checked > 30

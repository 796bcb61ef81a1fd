"""How the app meets the web server: proxies, request ids, and no debugger in production."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import headers, logs


def install(app: Flask) -> None:
    logs.install_request_ids(app)
    headers.install(app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Each trusted hop appends to X-Forwarded-For; believing exactly that many entries
        # (counted from the right) makes remote_addr the client's and keeps spoofed ones out.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    if app.config.get("PORTAL_ENV") == "production":
        # `flask run` reads FLASK_DEBUG only after loading the app, to choose the debugger
        # and the reloader and to set app.debug: production turns all three off here.
        os.environ["FLASK_DEBUG"] = "0"
        app.debug = False

"""Security headers on every response.

Pages may load scripts, styles, images and fonts from the portal only, and no page may be
framed by another site. A PDF may be shown inside the portal's own pages (they embed it
with <object>), so a PDF allows framing by the portal itself and carries no other policy,
which would only get in the way of the browser's PDF viewer.
"""

from __future__ import annotations

from flask import Flask, Response, request

# Inline styles stay allowed (a few `style` attributes and the no-JavaScript menu rule);
# inline scripts never are: every script is a file served by the portal.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'self'",
        "connect-src 'self'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PDF_POLICY = "frame-ancestors 'self'"
HSTS = "max-age=31536000; includeSubDomains"


def install(app: Flask) -> None:
    app.after_request(add_headers)


def add_headers(response: Response) -> Response:
    pdf = response.mimetype == "application/pdf"
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PDF_POLICY if pdf else PAGE_POLICY)
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if pdf else "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        # Over HTTPS (directly, or behind a trusted proxy that says so): browsers keep to
        # HTTPS for a year.
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response

"""`/tsa`: the portal's time-stamping authority over HTTP (RFC 3161 section 3.4).

Open to anyone, like any public TSA: a token proves only that a digest existed at a time, and
reveals nothing. Throttled per client address (TSA_RATE_LIMIT, portal/throttle.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from portal import runtime
from portal.extensions import csrf
from portal.pki import PkiError

bp = Blueprint("tsa", __name__)
# Clients are other servers' RFC 3161 libraries: no session, no CSRF token, no state changed.
csrf.exempt(bp)

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
# A TimeStampReq with a SHA-512 imprint, a nonce and a policy is under 200 bytes; anything
# much larger is not one, and is refused before it is read.
MAX_REQUEST_BYTES = 4096


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status, mimetype="text/plain")


@bp.post("/tsa")
def respond() -> Response:
    """A TimeStampResp for the TimeStampReq in the body: a token, or a rejection saying why."""
    if request.mimetype != QUERY_TYPE:
        return _text(f"Send an RFC 3161 TimeStampReq as {QUERY_TYPE}.", 415)
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        return _text(f"A TimeStampReq is at most {MAX_REQUEST_BYTES} bytes.", 413)
    body = request.stream.read(MAX_REQUEST_BYTES + 1)
    if len(body) > MAX_REQUEST_BYTES:
        return _text(f"A TimeStampReq is at most {MAX_REQUEST_BYTES} bytes.", 413)
    try:
        authority = runtime.pki().tsa
    except PkiError:
        return _text("The time-stamping authority is not available.", 503)
    response = Response(authority.respond_der(body), 200, content_type=REPLY_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response

"""The API's errors: every refusal under /api/ is JSON `{"error": {"code", "message"}}`.

The pages answer errors with HTML; a program reading the API cannot read a page, so the
app's error handlers (portal/__init__.py), the throttle and the sign-in gates ask
`under_api()` and answer with `error_response` there. A refusal caused by one query
parameter names it in `error.parameter`.
"""

from __future__ import annotations

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"

# Each status the API answers with an error, and the code and words it gives by default.
CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request is not one the API understands."),
    401: (
        "unauthenticated",
        "Sign in first: send the portal's session cookie or a bearer API token.",
    ),
    403: ("forbidden", "You may not do that."),
    404: ("not_found", "That record does not exist, or it is not yours to see."),
    405: ("method_not_allowed", "That method is not available on this path."),
    409: ("conflict", "Someone else changed this first, or the request is in progress."),
    413: ("payload_too_large", "The upload is larger than the portal accepts."),
    415: ("unsupported_media_type", "Send the body in the media type the API describes."),
    422: ("refused", "The request is well formed, but the portal's rules refuse it."),
    429: (
        "too_many_requests",
        "Too many requests from your address in a short time. Wait a minute and try again.",
    ),
    500: ("internal_error", "The portal could not finish this. Nothing was changed."),
}


class ApiError(Exception):
    """A refusal the API explains: its status, a stable code, and plain words."""

    def __init__(self, status: int, message: str, *, code: str = "", parameter: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, CODES[400])[0]
        self.message = message
        self.parameter = parameter


class BadParameter(ApiError):
    """A query parameter the API cannot use: never read as if it were absent."""

    def __init__(self, parameter: str, message: str):
        super().__init__(400, message, code="invalid_parameter", parameter=parameter)


def under_api() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(
    status: int,
    code: str = "",
    message: str = "",
    *,
    parameter: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    default_code, default_message = CODES.get(status, CODES[400 if status < 500 else 500])
    body: dict[str, str] = {"code": code or default_code, "message": message or default_message}
    if parameter:
        body["parameter"] = parameter
    response = jsonify(error=body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_api_error(err: ApiError) -> Response:
    return error_response(err.status, err.code, err.message, parameter=err.parameter)


def from_http_exception(err: HTTPException, message: str = "") -> Response:
    """The JSON form of a werkzeug error, keeping the headers it carries (Allow on a 405)."""
    status = err.code or 500
    headers = {k: v for k, v in err.get_headers() if k.lower() != "content-type"}
    return error_response(status, message=message or _description(err, status), headers=headers)


def _description(err: HTTPException, status: int) -> str:
    # Werkzeug's own descriptions are written for HTML pages ("…the server does not
    # understand…"); ours say what to do. An explicit abort(…, description) is kept.
    if status in CODES and err.description == type(err).description:
        return CODES[status][1]
    return err.description or CODES.get(status, CODES[500])[1]

"""The one table mapping the error tree to HTTP statuses, and the one JSON error shape.

Every error response of the REST API is `{"error": {"code", "message", "field"[, "details"]}}`
(the `Error` schema of openapi.yaml), whatever raised it: the domain (an `MlprodError`),
tornado / jupyter_server (an `HTTPError`, e.g. 403 without a token) or a bug (500 with an id).
"""
from __future__ import annotations

import uuid
from http.client import responses

from tornado.web import HTTPError

from ..errors import Conflict, Forbidden, InvalidInput, MlprodError, NotFound, Unavailable

# Most specific first; `status_for` walks the exception's MRO so subclasses map like their base.
STATUS: dict[type[MlprodError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
    Unavailable: 503,
    Forbidden: 403,
    MlprodError: 400,  # a bare MlprodError is still something the caller can act on
}

# A few error codes override their class's status. `unauthorized` is a production node
# refusing (or lacking) the token this server sends it: the caller's Jupyter credentials are
# fine, so not 401/403 (which a client would take for its own login) but 502, the upstream's.
CODE_STATUS: dict[str, int] = {
    "unauthorized": 502,
    "body_too_large": 413,  # over MlprodApp.max_body_bytes
    "unsupported_media_type": 415,  # a body that is not application/json
}

# Codes for errors raised by the HTTP layer itself rather than by the domain.
_HTTP_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "body_too_large",
               415: "unsupported_media_type", 503: "unavailable"}


def status_for(exc: MlprodError) -> int:
    if exc.code in CODE_STATUS:
        return CODE_STATUS[exc.code]
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, message: str, field: str | None = None, details: dict | None = None
               ) -> dict:
    error = {"code": code, "message": message, "field": field}
    if details:
        error["details"] = details
    return {"error": error}


def new_error_id() -> str:
    return uuid.uuid4().hex[:12]


def response_for(exc: BaseException | None, status: int, error_id: str | None = None
                 ) -> tuple[int, dict]:
    """(status, body) for whatever reached the handler's error path: the domain's errors by
    the table, HTTP-layer errors with their own status, anything else as a 500 whose message
    carries only the id under which the traceback was logged."""
    if isinstance(exc, MlprodError):
        return status_for(exc), {"error": exc.to_dict()}
    if isinstance(exc, HTTPError):
        status = exc.status_code
    elif exc is not None:
        status = 500
    if status >= 500:
        return status, error_body("internal", f"internal error (id {error_id}); see the "
                                  "Jupyter server log", details={"error_id": error_id})
    message = (getattr(exc, "log_message", None) or getattr(exc, "reason", None)
               or responses.get(status, "HTTP error"))
    if exc is not None and exc.args:
        try:
            message = message % exc.args
        except (TypeError, ValueError):
            pass
    if status == 403 and message == responses[403]:
        message = ("Forbidden: send the Jupyter token (Authorization: token ...) or, with a "
                   "cookie session, the X-XSRFToken header")
    return status, error_body(_HTTP_CODES.get(status, "http_error"), message)

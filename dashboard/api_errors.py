"""The one error shape of the data API: `{"error": {"status": 404, "code": "not_found", "message": "..."}}`.

Every refusal under /api/ (the sign-in gate, the CSRF gate, request hygiene, routing, the endpoint
guard and the endpoints themselves) answers through `error_response`, so clients parse one shape and
the OpenAPI document describes it once (`ErrorResponse`).
"""

from __future__ import annotations

from flask import Response, jsonify
from pydantic import BaseModel, ConfigDict, Field

# The code each status carries unless a more precise one is given.
STATUS_CODES: dict[int, str] = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 429: "too_many_requests", 500: "internal_error",
    503: "unavailable",
}
# More precise codes some refusals use; clients may branch on them.
INVALID_PARAMETER = "invalid_parameter"
CSRF_FAILED = "csrf_failed"
UNSTORABLE_TEXT = "unstorable_text"
# Text the API accepts, as a JSON Schema pattern: no NUL, which PostgreSQL text cannot store (such a
# request is refused with UNSTORABLE_TEXT before it reaches an endpoint).
STORABLE_TEXT_PATTERN = "^[^\\u0000]*$"
PASSWORD_CHANGE_REQUIRED = "password_change_required"
# The database stopped the request's query at the web statement timeout (Settings.web_statement_timeout_seconds).
QUERY_TIMEOUT = "query_timeout"


class ErrorBody(BaseModel):
    model_config = ConfigDict(title="ErrorBody", extra="forbid")

    status: int = Field(description="The HTTP status, repeated for clients that only keep the body.",
                        ge=400, le=599)
    code: str = Field(description="A stable machine-readable code: " + ", ".join(
        [*STATUS_CODES.values(), INVALID_PARAMETER, CSRF_FAILED, UNSTORABLE_TEXT, PASSWORD_CHANGE_REQUIRED,
         QUERY_TIMEOUT]) + ".")
    message: str = Field(description="What went wrong, in words for people.")


class ErrorResponse(BaseModel):
    """Every error of the API."""

    model_config = ConfigDict(title="ErrorResponse", extra="forbid")

    error: ErrorBody


def error_body(status: int, message: str, code: str | None = None) -> dict[str, object]:
    return ErrorResponse(error=ErrorBody(status=status, code=code or STATUS_CODES.get(status, "error"),
                                         message=message)).model_dump()


def error_response(status: int, message: str, code: str | None = None) -> Response:
    """A JSON error response in the API's one shape."""
    response = jsonify(error_body(status, message, code))
    response.status_code = status
    return response

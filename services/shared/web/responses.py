"""What the APIs answer when they refuse, for the OpenAPI specs: the error body every handler sends (one
model), the 422 body, and the named `responses=` declarations that routes and routers use, so each
operation lists every status it can send and generated clients know them.

A route's statuses come from what it depends on (see tests/unit/test_openapi_errors.py, which checks it):

- an operator route (bearer token): BEARER; a write (WriteDB, WriteTenant): also WRITER;
- a device route (X-Provision-Token): DEVICE_TOKEN (401, and 429 once an address keeps failing);
- anything that touches the database: UNAVAILABLE (503);
- a request body: TOO_LARGE (413); 422 is added by FastAPI wherever a parameter or body is validated;
- a string that reaches SQL from the path or query: BAD_VALUE (400, e.g. a NUL character, which the spec
  rules out with a pattern on every such parameter);
- then what the domain raises: NOT_FOUND, CONFLICT (or a conflict model that carries the current state).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from shared.web.validation import NO_NUL

Responses = dict[int | str, dict[str, Any]]


class ErrorOut(BaseModel):
    """The body of every error answer (shared/web/http.py `error_response`). Some errors carry more
    fields: `current` on a 409 that reports the current state, `unknown_device_ids`, `status`..."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="stable code: bad_request, unauthorized, forbidden, not_found, ...")
    detail: str = Field(description="what went wrong, for people")


def error(
    status: int, description: str, model: type[BaseModel] = ErrorOut, *, retry_after: bool = False
) -> Responses:
    entry: dict[str, Any] = {"model": model, "description": description}
    if status == 401:
        header = {"description": "Bearer", "schema": {"type": "string"}}
        entry["headers"] = {"WWW-Authenticate": header}
    if retry_after:  # the body then carries the same number as `retry_after`
        header = {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}
        entry["headers"] = {"Retry-After": header}
    return {status: entry}


BAD_VALUE = error(400, "a value the database cannot take (e.g. a NUL character), or a refused request")
BEARER = error(
    401, "missing, invalid or expired bearer token, or its user is disabled or no longer exists"
) | error(429, "too many requests from this user (the operator rate limit): retry later", retry_after=True)
WRITER = error(403, "the caller's role (viewer) may not change anything")
# A write that adds to what a tenant's quota counts (devices, jobs): its 403 has two causes.
WRITER_QUOTA = error(
    403,
    "the caller's role (viewer) may not change anything, or the tenant's quota is reached (error "
    "`quota_exceeded`, with `quota`, `limit` and `used`): nothing was stored",
)
ADMIN = error(403, "only an admin may manage users")
NOT_FOUND = error(404, "not found in the caller's tenant")
CONFLICT = error(409, "conflicts with the current state")
TOO_LARGE = error(413, "request body too large")
DEVICE_TOKEN = error(401, "missing, unknown or revoked X-Provision-Token") | error(
    429,
    "too many failed authentications from this address (a valid token is never refused for it), or too many "
    "requests from this device or its tenant: retry after Retry-After seconds",
    retry_after=True,
)
UNAVAILABLE = error(503, "the database is unavailable: nothing was stored, retry later")


# The body every 422 actually carries (`_validation` in http.py). FastAPI documents its own default shape
# (`detail` as a list) under this name on every route, so the spec is corrected to match the answers.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["error", "detail", "errors"],
    "properties": {
        "error": {"type": "string", "const": "validation_error"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
    },
}


def _text_parameters_without_nul(spec: dict[str, Any]) -> None:
    """Every string in a path or query reaches PostgreSQL as text, which cannot hold NUL (BAD_VALUE's 400):
    the spec says so with a pattern, unless the parameter has its own pattern or values."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") not in ("path", "query"):
                    continue
                schema = parameter.get("schema", {})
                for option in (schema, *schema.get("anyOf", ())):
                    if option.get("type") == "string" and not {"pattern", "enum", "const"} & option.keys():
                        option["pattern"] = NO_NUL


def complete_openapi(app: FastAPI) -> None:
    """Makes the OpenAPI spec describe the 422 body the app really sends, and the text parameters' limit."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        schemas = spec.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = VALIDATION_ERROR_SCHEMA
            schemas.pop("ValidationError", None)
        _text_parameters_without_nul(spec)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]

"""Domain errors. Each carries its HTTP status; the apps turn them into JSON answers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}
        if retry_after is not None:  # seconds: a Retry-After header, and the same in the body
            self.headers["Retry-After"] = str(retry_after)
            self.extra["retry_after"] = retry_after

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.message, **self.extra}


class BadRequest(DomainError):
    status_code = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class TooManyRequests(DomainError):
    status_code = 429
    code = "rate_limited"


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"

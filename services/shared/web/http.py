"""HTTP plumbing shared by both APIs: JSON responses, error bodies, body-size limit."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import DomainError
from shared.infra.db import DB_UNAVAILABLE, TX_CONFLICTS
from shared.observability import metrics

log = logging.getLogger("iotcloud.http")


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError


class FastJSONResponse(JSONResponse):
    """JSON rendered by orjson (datetimes as ISO 8601, UUIDs as strings)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default, option=orjson.OPT_UTC_Z)


def error_response(
    http_status: int, code: str, detail: Any, /, headers: Mapping[str, str] | None = None, **extra: Any
) -> FastJSONResponse:
    if http_status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return FastJSONResponse(
        {"error": code, "detail": detail, **extra}, status_code=http_status, headers=headers
    )


def allowed_methods(app: Starlette, path: str) -> list[str]:
    """The methods served at `path`, by all its routes (Starlette's own 405 names only the first route that
    matched, and GET and PATCH of one path are two routes). The web console's catch-all, an undocumented
    API route, does not count."""
    methods: set[str] = set()
    for route in iter_route_contexts(app.router.routes):  # included routers' routes with their prefixes
        original = route.original_route
        if isinstance(original, APIRoute) and not original.include_in_schema:
            continue
        if isinstance(original, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)


def method_not_allowed(app: Starlette, path: str) -> FastJSONResponse:
    allow = ", ".join(allowed_methods(app, path))
    return error_response(405, "method_not_allowed", "Method Not Allowed", headers={"Allow": allow})


def _clean_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        item = {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
        out.append(item)
    return out


def validation_error(errors: Any) -> FastJSONResponse:
    cleaned = _clean_errors(errors)
    first = cleaned[0] if cleaned else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body") or "request"
    return error_response(422, "validation_error", f"{where}: {first['msg']}", errors=cleaned)


FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> FastJSONResponse:
        return error_response(exc.status_code, exc.code, exc.message, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> FastJSONResponse:
        return validation_error(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> FastJSONResponse:
        if exc.status_code == 405:
            return method_not_allowed(request.app, request.url.path)
        if exc.status_code == 400 and exc.detail == FASTAPI_UNPARSABLE_BODY:
            # FastAPI's answer to a JSON body that is not UTF-8 (or a form it cannot parse); a body that is
            # not JSON is a 422 everywhere else, LeanRoute's included.
            return validation_error([{"loc": ("body",), "msg": "cannot be parsed", "type": "body_invalid"}])
        code = _CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, exc.detail, headers=exc.headers)

    async def _db_down(request: Request, exc: Exception) -> FastJSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        metrics.DB_UNAVAILABLE.labels(getattr(request.app.state, "service", "unknown")).inc()
        return error_response(503, "unavailable", "database unavailable, retry later")

    for exc_class in DB_UNAVAILABLE:
        app.add_exception_handler(exc_class, _db_down)

    async def _tx_conflict(_: Request, exc: Exception) -> FastJSONResponse:
        log.info("transaction lost to a concurrent one: %s", type(exc).__name__)
        return error_response(503, "unavailable", "a concurrent change got in the way, retry")

    for exc_class in TX_CONFLICTS:
        app.add_exception_handler(exc_class, _tx_conflict)

    @app.exception_handler(asyncpg.DataError)
    async def _data(_: Request, exc: asyncpg.DataError) -> FastJSONResponse:
        return error_response(
            400, "bad_request", "invalid value (malformed text, e.g. a NUL byte, or out of range)"
        )

    @app.exception_handler(asyncpg.CheckViolationError)
    async def _check(_: Request, exc: asyncpg.CheckViolationError) -> FastJSONResponse:
        return error_response(400, "bad_request", f"value rejected by constraint {exc.constraint_name}")


class BodyLimitMiddleware:
    """Answers 413 to a request body larger than `max_bytes`, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # paths with a limit of their own (an artifact upload), exact
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        declared = declared_length(scope)
        if declared is not None and (declared > limit or declared < 0):
            await body_too_large(limit)(scope, receive, send)
            return
        try:
            await self.app(scope, limited_receive(receive, limit), send)
        except BodyTooLarge:
            await body_too_large(limit)(scope, receive, send)


def limited_receive(receive: Receive, limit: int) -> Receive:
    """`receive` that raises BodyTooLarge once the body streamed in exceeds `limit` bytes."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge()
        return message

    return limited


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length: None when it declares none, -1 when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


def body_too_large(limit: int) -> FastJSONResponse:
    return error_response(413, "payload_too_large", f"request body exceeds {limit} bytes")


class BodyTooLarge(StarletteHTTPException):
    def __init__(self) -> None:
        super().__init__(413, "request body too large")

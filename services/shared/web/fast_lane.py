"""The fast lane: a service's hot routes (the device API's poll and execution update, which a fleet calls all
day) served under the one request hook, beside the app's middleware stack instead of through it.

Through the stack, a request passes about ten ASGI layers (Starlette's error and exception middleware,
FastAPI's exit stack, telemetry and body-limit layers, our security headers and body limit, the router),
and each response message goes back out through a send wrapper of most of them: under B3 that walk was
about a quarter of the device API's CPU (py-spy, docs/performance.md). The fast lane does what those layers
do for a hot route, in one place:

- the request hook (ObservabilityMiddleware: request id, metrics, access line) wraps it as it wraps the
  stack;
- the security headers of an API answer (shared/web/security_headers.py);
- the body limit (413 for a body larger than the app's limit, declared or streamed);
- the app's exception handlers, looked up as Starlette's ExceptionMiddleware does (by status code for an
  HTTPException, else by the exception's classes); an exception no handler takes gets the 500 that
  Starlette's ServerErrorMiddleware would send, and is raised on to the server, which logs it.

A request the lane does not fully match (another path, or a hot path with another method) goes through
the stack as before. tests/integration/test_fast_lane.py checks that both give the same answers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.http import body_too_large, declared_length, limited_receive
from shared.web.security_headers import API_CSP, with_security_headers

Handler = Callable[[Request, Exception], Any]  # an exception handler: its Response, or an awaitable of it
Endpoint = Callable[[Request], Awaitable[Response]]


class FastLane:
    """In front of `stack`: `routes` that fully match go to `lane` (a FastRoutes under the request hook)."""

    def __init__(self, stack: ASGIApp, lane: ASGIApp, routes: Sequence[BaseRoute], owner: Any) -> None:
        self.stack = stack
        self.lane = lane
        self.owner = owner  # the app: request.app, as Starlette sets it
        self.router = owner.router
        # by method, so a request is matched against the routes that can take it (a hot path with another
        # method matches none here, and the stack answers it: 405 with Allow)
        self.by_method: dict[str, tuple[BaseRoute, ...]] = {}
        for route in routes:
            for method in getattr(route, "methods", None) or ():
                self.by_method[method] = (*self.by_method.get(method, ()), route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.by_method.get(scope["method"], ()):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope["app"] = self.owner
                    scope.setdefault("router", self.router)
                    scope.update(child_scope)
                    scope["route"] = route
                    await self.lane(scope, receive, send)
                    return
        await self.stack(scope, receive, send)


class FastRoutes:
    """Serves a matched hot route (scope["route"], whose `endpoint_handler` takes the Request)."""

    def __init__(self, exception_handlers: Mapping[Any, Handler], max_body: int) -> None:
        self.max_body = max_body
        self.error_handler: Handler | None = None
        self.status_handlers: dict[int, Handler] = {}
        self.class_handlers: dict[type[BaseException], Handler] = {}
        for key, handler in exception_handlers.items():
            if key in (500, Exception):
                self.error_handler = handler
            elif isinstance(key, int):
                self.status_handlers[key] = handler
            else:
                self.class_handlers[key] = handler

    def handler_of(self, exc: Exception) -> Handler | None:
        if isinstance(exc, HTTPException) and exc.status_code in self.status_handlers:
            return self.status_handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in self.class_handlers:
                return self.class_handlers[cls]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tls = scope.get("scheme") == "https"

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = with_security_headers(message, API_CSP, tls)
            await send(message)

        declared = declared_length(scope)
        if declared is not None and (declared < 0 or declared > self.max_body):
            await body_too_large(self.max_body)(scope, receive, send_secured)
            return
        if declared is None:
            receive = limited_receive(receive, self.max_body)
        request = Request(scope, receive)
        endpoint: Endpoint = scope["route"].endpoint_handler
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = self.handler_of(exc)
            if handler is None:
                await self._server_error(request, exc, send_secured)
                raise
            response = await _answer(handler(request, exc))
        await response(scope, receive, send_secured)

    async def _server_error(self, request: Request, exc: Exception, send: Send) -> None:
        """As Starlette's ServerErrorMiddleware: the app's 500 handler's answer, else a plain 500."""
        if self.error_handler is not None:
            response = await _answer(self.error_handler(request, exc))
        else:
            response = PlainTextResponse("Internal Server Error", status_code=500)
        await response(request.scope, request.receive, send)


async def _answer(result: Any) -> Response:
    response: Response = await result if inspect.isawaitable(result) else result
    return response

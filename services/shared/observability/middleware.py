"""The one hook every HTTP request passes: its id (X-Request-ID, kept when sane, else generated, and echoed
in the response), its context for log lines, its metrics (by route template and status) and, when enabled,
its access line."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.observability import metrics
from shared.observability.context import REQUEST, RequestInfo, request_id_from

access_log = logging.getLogger("iotcloud.access")

# Requests no route matched share one label, and so do methods HTTP does not define, so that scanning
# random paths or methods cannot grow the series.
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def route_of(scope: Scope) -> str:
    """The template of the route that served the request ("/customer/jobs/{job_id}"), never its path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    if scope.get("root_path", "") != scope.get("app_root_path", scope.get("root_path", "")):
        return str(scope["root_path"]) + "/{path}"  # a mount (the console's /assets)
    return UNMATCHED


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, service: str, log_requests: bool) -> None:
        self.app = app
        self.service = service
        self.log_requests = log_requests
        self.in_flight = metrics.HTTP_IN_FLIGHT.labels(service)
        # the labelled children, looked up once per (method, route, status): few, since routes are templates
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                metrics.HTTP_REQUESTS.labels(self.service, method, route, str(status)),
                metrics.HTTP_DURATION.labels(self.service, method, route),
            )
        children[0].inc()
        children[1].observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(_header(scope, b"x-request-id"))
        info = RequestInfo(request_id, self.service, scope["method"], scope=scope)
        token = REQUEST.set(info)
        status = 500  # what the client gets when the app raises past every handler
        echoed = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            await send(message)

        self.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.in_flight.dec()
            elapsed = time.perf_counter() - started
            route = route_of(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self._observe(method, route, status, elapsed)
            if self.log_requests:
                duration_ms = round(elapsed * 1000, 2)
                extra: dict[str, Any] = {"method": method, "status": status, "duration_ms": duration_ms}
                access_log.info("%s %s %d %.2fms", method, route, status, duration_ms, extra=extra)
            REQUEST.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            try:
                return str(value.decode("ascii"))
            except UnicodeDecodeError:
                return None
    return None

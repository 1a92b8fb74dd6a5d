"""The device API's hot calls (the poll and the execution update), matched before the app's other routes.

The app's router walks its included routers route by route, through several layers of FastAPI's
included-router machinery, before it reaches a route; for the two calls a fleet makes all day that walk was
about a fifth of the device API's CPU (py-spy under B2/B3, docs/performance.md). HotRoutes sits where the
router's own middleware would: everything around the router (request id, metrics, security headers, body
limits, the exception handlers) applies as before, and a request for another path goes to the router as
before. Only the matching is shortened: a hot route that fully matches (path and method) is handed the
request directly, with the scope the router would have given it (route, endpoint, path parameters)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send


class HotRoutes:
    def __init__(self, app: ASGIApp, router: Router, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.router = router
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self.router)
                    scope.update(child_scope)
                    scope["route"] = route
                    await route.handle(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def serve_first(router: Router, routes: Sequence[BaseRoute]) -> None:
    """Matches `routes` (already included in `router`) before the router's own walk."""
    router.middleware_stack = HotRoutes(router.middleware_stack, router, routes)

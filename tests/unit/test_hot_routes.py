"""HotRoutes: a hot route that fully matches is served directly, with the scope the router would give it
(route, path parameters), inside the app's middleware and exception handlers; anything else (another
path, another method on a hot path, an unknown path) goes to the router as before."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request, Response

from ingest_iot.hot_routes import HotRoutes, serve_first
from shared.errors import Conflict
from shared.web.http import FastJSONResponse, install_error_handlers
from shared.web.lean_route import LeanRoute

SEEN: list[dict[str, Any]] = []


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    hot = APIRouter(prefix="/hot", route_class=LeanRoute)
    other = APIRouter()

    @hot.get("/{item}")
    async def get_item(request: Request, item: str) -> Response:
        route = request.scope["route"]
        SEEN.append({"route": route.path_format, "router": request.scope.get("router") is app.router})
        if item == "refused":
            raise Conflict("refused here")
        return FastJSONResponse({"item": item, "via": "hot"})

    @other.get("/other/{item}")
    async def get_other(item: str) -> dict[str, str]:
        return {"item": item, "via": "router"}

    app.include_router(other)
    app.include_router(hot)
    serve_first(app.router, hot.routes)
    return app


async def _get(app: FastAPI, path: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        return await http.request(method, path)


async def test_a_hot_route_is_served_with_the_routers_scope() -> None:
    app = _app()
    assert isinstance(app.router.middleware_stack, HotRoutes)
    SEEN.clear()
    r = await _get(app, "/hot/a%20b")
    assert r.status_code == 200 and r.json() == {"item": "a b", "via": "hot"}
    assert SEEN == [{"route": "/hot/{item}", "router": True}]


async def test_errors_of_a_hot_route_go_through_the_apps_handlers() -> None:
    r = await _get(_app(), "/hot/refused")
    assert r.status_code == 409
    assert r.json() == {"error": "conflict", "detail": "refused here"}


async def test_everything_else_goes_to_the_router() -> None:
    app = _app()
    r = await _get(app, "/other/x")
    assert r.status_code == 200 and r.json() == {"item": "x", "via": "router"}
    assert (await _get(app, "/hot/x", "DELETE")).status_code == 405  # the router's answer to a wrong method
    assert (await _get(app, "/nowhere")).status_code == 404

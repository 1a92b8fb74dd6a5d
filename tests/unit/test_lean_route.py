"""LeanRoute serves an endpoint with only the request, path parameters and a JSON body model, answers bad
bodies with the same 422 as FastAPI, and refuses at build time any parameter it would not resolve."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.web.http import FastJSONResponse, install_error_handlers
from shared.web.lean_route import LeanRoute


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(ge=1)


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    router = APIRouter(route_class=LeanRoute)

    @router.put("/things/{thing_id}/parts/{part}")
    async def put_part(request: Request, thing_id: str, part: str, body: Body) -> Response:
        return FastJSONResponse({"thing": thing_id, "part": part, "n": body.n, "method": request.method})

    app.include_router(router)
    return app


async def _put(body: bytes, content_type: str = "application/json") -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.put("/things/a%20b/parts/p-1", content=body, headers={"content-type": content_type})


async def test_path_parameters_and_body_reach_the_endpoint() -> None:
    r = await _put(b'{"n": 3}')
    assert r.status_code == 200
    assert r.json() == {"thing": "a b", "part": "p-1", "n": 3, "method": "PUT"}


@pytest.mark.parametrize(
    ("body", "content_type", "where"),
    [
        (b'{"n": 0}', "application/json", "n"),
        (b'{"n": 1, "extra": true}', "application/json", "extra"),
        (b"{not json", "application/json", "request"),
        (b'{"n": 1}', "text/plain", "request"),
        (b"", "application/json", "request"),
    ],
)
async def test_bad_bodies_get_the_usual_422(body: bytes, content_type: str, where: str) -> None:
    r = await _put(body, content_type)
    assert r.status_code == 422
    data = r.json()
    assert data["error"] == "validation_error"
    assert data["detail"].startswith(f"{where}:")
    assert all(e["loc"][0] == "body" for e in data["errors"])


def test_parameters_it_would_not_resolve_are_refused_when_the_route_is_built() -> None:
    router = APIRouter(route_class=LeanRoute)
    with pytest.raises(TypeError, match="cannot serve parameter 'limit'"):

        @router.get("/things")
        async def things(request: Request, limit: int = Query(10)) -> Response:
            return FastJSONResponse({})

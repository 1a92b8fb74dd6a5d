"""Every way a request can meet a database that is down or restarting becomes a 503 JSON "retry later",
never a 500; other errors keep their own answers."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from shared.infra.db import DB_UNAVAILABLE
from shared.web.http import install_error_handlers

DOWN = [
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.CannotConnectNowError("the database system is shutting down"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    asyncpg.InterfaceError("connection is closed"),
    ConnectionRefusedError(111, "Connection refused"),
    FileNotFoundError(2, "No such file or directory"),
    TimeoutError(),
]


def _app(exc: BaseException) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize("exc", DOWN, ids=lambda e: type(e).__name__)
async def test_database_down_answers_503_json(exc: BaseException) -> None:
    assert isinstance(exc, DB_UNAVAILABLE)
    transport = httpx.ASGITransport(app=_app(exc))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        r = await http.get("/boom")
    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"


async def test_a_bug_is_still_a_500() -> None:
    transport = httpx.ASGITransport(app=_app(ZeroDivisionError()), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        r = await http.get("/boom")
    assert r.status_code == 500

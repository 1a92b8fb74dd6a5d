"""The error answers have the body the specs document (ErrorOut): domain errors, routing's 404 and 405,
the body limit's 413, and a JSON body that is not even text (FastAPI's own answer is a 400)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from ingest_iot.app import create_app as create_device_app
from shared.errors import DomainError
from shared.infra.config import Settings
from shared.web.http import error_response
from shared.web.responses import ErrorOut


@pytest.fixture(scope="module")
def device_app() -> Iterator[FastAPI]:
    with tempfile.TemporaryDirectory() as home:
        yield create_device_app(Settings(secret="t", home=home), "postgresql://unused/t")


@pytest.mark.parametrize("cls", [DomainError, *DomainError.__subclasses__()], ids=lambda c: c.__name__)
def test_domain_errors_answer_an_error_body(cls: type[DomainError]) -> None:
    exc = cls("went wrong", current={"x": 1})
    body = json.loads(error_response(exc.status_code, exc.code, exc.message, **exc.extra).body)
    assert ErrorOut.model_validate(body).model_dump() == {
        "error": exc.code,
        "detail": "went wrong",
        "current": {"x": 1},
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/device/v1/nothing", b"", 404),
        ("DELETE", "/device/v1/shadow", b"", 405),
        ("POST", "/device/v1/shadow/reported", b"x" * (65 * 1024), 413),
        ("POST", "/device/v1/shadow/reported", b'{"reported": "\xff\xfe"}', 422),  # not UTF-8: not JSON
    ],
)
async def test_http_errors_answer_an_error_body(
    device_app: FastAPI, method: str, path: str, body: bytes, status: int
) -> None:
    # No lifespan, so no pool: these answer before anything needs the database.
    transport = httpx.ASGITransport(app=device_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        r = await http.request(method, path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    ErrorOut.model_validate(r.json())

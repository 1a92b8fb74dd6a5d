"""A request with a method its path does not serve gets 405 with, in `Allow`, every method that path
serves (not only those of the first route that matched); the operator API's console catch-all neither
hides an API path's 405 behind a page nor serves a page to another method than GET."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from ui_iot.app import create_app as create_ui_app


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        static = Path(tmp) / "dist"
        static.mkdir()
        (static / "index.html").write_text("<html>console</html>")
        yield Path(tmp)


def _settings(home: Path) -> Settings:
    return Settings(secret="t", home=home, static_dir=home / "dist")


async def _call(app: FastAPI, method: str, path: str, **kw: Any) -> httpx.Response:
    # No lifespan, so no pool: routing answers before anything needs the database.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.request(method, path, **kw)


@pytest.mark.parametrize(
    ("app_kind", "method", "path", "status", "allow"),
    [
        ("ui", "PUT", "/customer/devices/d-1", 405, "GET, PATCH"),
        ("ui", "OPTIONS", "/customer/devices/d-1/twin", 405, "GET, PATCH"),
        ("ui", "GET", "/auth/token", 405, "POST"),  # not the console's page
        ("ui", "PUT", "/customer/jobs/j-1", 405, "DELETE, GET"),
        ("ui", "POST", "/some/console/page", 405, "GET"),
        ("ui", "GET", "/customer/nothing-here", 404, None),
        ("device", "POST", "/device/v1/shadow", 405, "GET"),
        ("device", "DELETE", "/device/v1/jobs/j-1/execution", 405, "GET, PUT"),
        ("device", "GET", "/device/v1/nothing-here", 404, None),
    ],
)
async def test_wrong_methods_get_405_with_all_the_allowed_ones(
    home: Path, app_kind: str, method: str, path: str, status: int, allow: str | None
) -> None:
    create = create_ui_app if app_kind == "ui" else create_device_app
    r = await _call(create(_settings(home), "postgresql://unused/t"), method, path)
    assert r.status_code == status
    assert r.headers.get("allow") == allow
    assert r.json()["error"] in ("method_not_allowed", "not_found")


async def test_the_console_still_serves_its_pages(home: Path) -> None:
    app = create_ui_app(_settings(home), "postgresql://unused/t")
    r = await _call(app, "GET", "/jobs/some-job")
    assert r.status_code == 200
    assert "console" in r.text

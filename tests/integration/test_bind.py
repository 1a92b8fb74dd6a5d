"""Bind addresses: IOTCLOUD_BIND (or `iotcloud up --bind`) opens both APIs on another address, the
per-service hosts win over it, and loopback stays the default. The real `run_services` of `iotcloud up`,
reached over a non-loopback address of this machine."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from iotcloud.cli import app as cli
from iotcloud.runner import run_services
from shared.infra.config import Settings
from tests.conftest import TEST_SECRET
from tests.support.pg import TestDB
from tests.support.servers import free_port

ANY = "0.0.0.0"  # noqa: S104 - binding every interface is what is tested


def non_loopback_address() -> str | None:
    """The address this machine would use to reach another one (no packet is sent), if not loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.254", 9))  # TEST-NET-1: only the routing decision matters
        except OSError:
            return None
        address: str = s.getsockname()[0]
    return None if address.startswith("127.") or address == ANY else address


@contextlib.asynccontextmanager
async def running(settings: Settings, app_url: str) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_services(settings, app_url, worker=False, stop=stop))
    try:
        for _ in range(200):
            if task.done():
                task.result()
            with contextlib.suppress(httpx.HTTPError):
                async with httpx.AsyncClient(timeout=2) as c:
                    r = await c.get(f"http://127.0.0.1:{settings.device_port}/health")
                    if r.status_code == 200:
                        break
            await asyncio.sleep(0.05)
        yield
    finally:
        stop.set()
        assert await task == 0


async def answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=3) as c:
            return (await c.get(url)).status_code == 200
    except httpx.ConnectError:
        return False


def settings_with(tmp_home: Path, **kw: Any) -> Settings:
    return Settings(
        home=tmp_home,
        secret=TEST_SECRET,
        ui_port=free_port(),
        device_port=free_port(),
        aws_port=free_port(),
        mqtt_port=free_port(),
        **kw,
    )


def test_bind_resolves_for_both_services_and_per_service_hosts_win(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("IOTCLOUD_BIND", "IOTCLOUD_UI_HOST", "IOTCLOUD_DEVICE_HOST", "IOTCLOUD_AWS_HOST"):
        monkeypatch.delenv(var, raising=False)
    default = Settings()
    assert (default.ui_host, default.device_host) == ("127.0.0.1", "127.0.0.1")
    monkeypatch.setenv("IOTCLOUD_BIND", ANY)
    both = Settings()
    assert (both.ui_host, both.device_host, both.aws_host) == (ANY, ANY, ANY)
    monkeypatch.setenv("IOTCLOUD_UI_HOST", "127.0.0.1")
    mixed = Settings()
    assert (mixed.ui_host, mixed.device_host) == ("127.0.0.1", ANY)


def test_up_help_shows_the_bind_option() -> None:
    out = CliRunner().invoke(cli, ["up", "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "--bind" in out.output and "IOTCLOUD_BIND" in out.output and "127.0.0.1" in out.output


async def test_bind_all_interfaces_answers_on_a_network_address(session_db: TestDB, tmp_path: Path) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has only a loopback address: nothing else to reach the services on")
    settings = settings_with(tmp_path, bind=ANY)
    async with running(settings, session_db.app_url):
        assert await answers(f"http://{address}:{settings.device_port}/ready")
        assert await answers(f"http://{address}:{settings.ui_port}/ready")
        assert await answers(f"http://{address}:{settings.aws_port}/ready")


async def test_default_stays_loopback_only(session_db: TestDB, tmp_path: Path) -> None:
    address = non_loopback_address()
    settings = settings_with(tmp_path)
    async with running(settings, session_db.app_url):
        assert await answers(f"http://127.0.0.1:{settings.device_port}/ready")
        assert await answers(f"http://127.0.0.1:{settings.ui_port}/ready")
        assert await answers(f"http://127.0.0.1:{settings.aws_port}/ready")
        if address is None:
            pytest.skip("this machine has only a loopback address: cannot show the others are closed")
        assert not await answers(f"http://{address}:{settings.device_port}/ready")
        assert not await answers(f"http://{address}:{settings.ui_port}/ready")
        assert not await answers(f"http://{address}:{settings.aws_port}/ready")

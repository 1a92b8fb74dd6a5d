"""Reliability and security suite: multi-process services, fault injection, fuzzing, tenant isolation.
Every test is checked for secrets in logs at teardown; the session ends with a one-line summary."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from tests.conftest import TEST_SECRET
from tests.integration.reliability.accounts import Account, new_tenant
from tests.integration.reliability.logwatch import WATCH
from tests.integration.reliability.procs import Cluster
from tests.integration.reliability.tally import TALLY
from tests.support.pg import TestDB
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app


@pytest.fixture(scope="session", autouse=True)
def _capture_logs() -> Iterator[None]:
    handler = WATCH.attach()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request from the test clients
    yield
    logging.getLogger().removeHandler(handler)


@pytest.fixture(autouse=True)
def no_secrets_in_logs() -> Iterator[None]:
    yield
    leaks = WATCH.leaks()
    assert not leaks, "secrets in logs:\n" + "\n".join(leaks)


@pytest.fixture(autouse=True)
def no_server_errors() -> Iterator[None]:
    before = TALLY.server_errors
    yield
    assert TALLY.server_errors == before, f"5xx answers: {TALLY.errors_seen[-10:]}"


@pytest.fixture
def cluster_home(tmp_path: Path) -> Path:
    return tmp_path / "cluster"


@pytest.fixture
async def cluster(fresh_db: TestDB, cluster_home: Path) -> AsyncIterator[Cluster]:
    """`iotcloud serve` processes (ui, 2 x device, 2 x worker) on a database of this test's own."""
    c = Cluster(fresh_db.owner_url, TEST_SECRET, cluster_home)
    try:
        yield await c.start()
    finally:
        c.stop()


class Apps:
    """Private in-process servers of both APIs on the session database: tests that trip the failure rate
    limiter or fuzz do it here, away from the shared `services` fixture."""

    def __init__(self, ui: LiveServer, device: LiveServer, db: TestDB) -> None:
        self.ui, self.device, self.db = ui, device, db


@pytest.fixture
async def apps(session_db: TestDB, settings: Settings) -> AsyncIterator[Apps]:
    ui = await LiveServer(create_ui_app(settings, session_db.app_url)).start()
    device = await LiveServer(create_device_app(settings, session_db.app_url)).start()
    try:
        yield Apps(ui, device, session_db)
    finally:
        await ui.stop()
        await device.stop()


@pytest.fixture
async def account(session_db: TestDB) -> Account:
    return await new_tenant(session_db, TEST_SECRET)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.requests or TALLY.devices:
        terminalreporter.write_sep("=", "reliability summary")
        terminalreporter.write_line(TALLY.summary())
        terminalreporter.write_line(
            f"logs scanned for secrets: {WATCH.scanned_bytes} bytes, {len(WATCH.secrets)} secrets watched"
        )

"""Shared fixtures: a migrated template database, per-session and per-test copies, live API servers,
and tenants with a logged-in operator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from ingest_iot.app import create_app as create_device_app
from shared.auth import Principal, issue_token
from shared.infra.config import Settings
from shared.infra.db import SET_TENANT, connect
from shared.tenants import create_tenant, upsert_user
from tests.support.pg import TestDB, admin_server, clone, drop, make_template
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app

TEST_SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    with admin_server() as (url, _server):
        yield url


@pytest.fixture(scope="session")
def template_db(pg_admin: str) -> Iterator[str]:
    name = make_template(pg_admin)
    yield name
    drop(name, pg_admin)


@pytest.fixture(scope="session")
def session_db(pg_admin: str, template_db: str) -> Iterator[TestDB]:
    """One database for the session; tests isolate themselves by working in their own tenant."""
    db = clone(pg_admin, template_db)
    yield db
    drop(db, pg_admin)


@pytest.fixture
def fresh_db(pg_admin: str, template_db: str) -> Iterator[TestDB]:
    """A database of this test's own, copied from the migrated template."""
    db = clone(pg_admin, template_db)
    yield db
    drop(db, pg_admin)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home: Path = tmp_path_factory.mktemp("home")
    return Settings(
        home=home,
        secret=TEST_SECRET,
        pool_max=30,
        last_seen_interval_seconds=60,
        device_auth_failures_per_minute=100_000,
        # every test logs in from 127.0.0.1: the login guard's own tests set the production limits
        login_failures_per_account=100_000,
        login_failures_per_address=100_000,
    )


@dataclass
class Services:
    ui: LiveServer
    device: LiveServer
    db: TestDB
    settings: Settings

    def set_clock(self, now: datetime | None) -> None:
        clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))
        self.ui.app.state.clock = clock
        self.device.app.state.clock = clock


@pytest.fixture(scope="session")
async def services(session_db: TestDB, settings: Settings) -> AsyncIterator[Services]:
    ui = await LiveServer(create_ui_app(settings, session_db.app_url)).start()
    device = await LiveServer(create_device_app(settings, session_db.app_url)).start()
    yield Services(ui=ui, device=device, db=session_db, settings=settings)
    await ui.stop()
    await device.stop()


@pytest.fixture
async def clock(services: Services) -> AsyncIterator[Services]:
    yield services
    services.set_clock(None)


@pytest.fixture(scope="session")
async def app_pool(session_db: TestDB) -> AsyncIterator[asyncpg.Pool]:
    from shared.infra.db import create_pool

    pool = await create_pool(session_db.app_url, min_size=1, max_size=10)
    yield pool
    await pool.close()


@dataclass
class Tenant:
    tenant_id: str
    token: str
    services: Services
    tokens: dict[str, str] = field(default_factory=dict)  # device_id -> provision token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def api(self, **kw: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.services.ui.url, headers=self.auth, timeout=30, **kw)

    def device_api(self, device_id: str, **kw: Any) -> httpx.AsyncClient:
        headers = {"X-Provision-Token": self.tokens[device_id]}
        return httpx.AsyncClient(base_url=self.services.device.url, headers=headers, timeout=30, **kw)

    async def create_devices(self, n: int, prefix: str = "d") -> list[str]:
        ids = []
        async with self.api() as api:
            for i in range(n):
                r = await api.post(
                    "/customer/devices", json={"device_id": f"{prefix}-{i:05d}", "name": f"{prefix} {i}"}
                )
                assert r.status_code == 201, r.text
                body = r.json()
                self.tokens[body["device_id"]] = body["provision_token"]
                ids.append(body["device_id"])
        return ids

    async def create_group(self, group_id: str, members: list[str]) -> None:
        async with self.api() as api:
            r = await api.post("/customer/groups", json={"group_id": group_id, "name": group_id})
            assert r.status_code == 201, r.text
            if members:
                r = await api.post(f"/customer/groups/{group_id}/members", json={"device_ids": members})
                assert r.status_code == 200, r.text


async def make_tenant(services: Services, role: str = "admin", tenant_id: str | None = None) -> Tenant:
    tenant_id = tenant_id or f"t-{uuid.uuid4().hex[:10]}"
    owner = await connect(services.db.owner_url)
    try:
        await create_tenant(owner, tenant_id, tenant_id)
    finally:
        await owner.close()
    app = await connect(services.db.app_url)
    try:
        async with app.transaction():
            await app.execute(SET_TENANT, tenant_id)
            user = await upsert_user(app, tenant_id, f"{role}@{tenant_id}.test", "password-123", role)
    finally:
        await app.close()
    principal = Principal(tenant_id=tenant_id, user_id=user["user_id"], email=user["email"], role=role)
    token = issue_token(principal, TEST_SECRET, 3600)
    return Tenant(tenant_id=tenant_id, token=token, services=services)


@pytest.fixture
async def tenant(services: Services) -> Tenant:
    return await make_tenant(services)


@pytest.fixture
async def other_tenant(services: Services) -> Tenant:
    return await make_tenant(services)

"""The console's live updates (docs/live.md) over real HTTP on real PostgreSQL: GET /customer/events streams
what changes in the caller's tenant (a device's execution update through the device API, a job's creation, a
device's creation, groups), never another tenant's; 401 without a session; the stream ends when the server
stops or the session no longer holds; a reconnection of the listener sends "resync"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from shared.auth import Principal, issue_token
from shared.console_events.hub import ConsoleHub
from shared.infra.config import Settings
from shared.infra.db import connect
from tests.conftest import TEST_SECRET, Services, Tenant, make_tenant
from tests.support.servers import LiveServer
from tests.support.sse import EventStream
from ui_iot.app import create_app as create_ui_app


def stream_of(tenant: Tenant, token: str | None = None, url: str | None = None) -> EventStream:
    headers = {"Authorization": f"Bearer {token or tenant.token}"}
    return EventStream(f"{url or tenant.services.ui.url}/customer/events", headers)


async def _ready(stream: EventStream) -> None:
    assert stream.status == 200
    assert (await stream.next()).event == "ready"


async def test_a_tenants_changes_arrive_within_a_second(tenant: Tenant) -> None:
    async with stream_of(tenant) as stream:
        await _ready(stream)
        loop = asyncio.get_running_loop()
        [dev] = await tenant.create_devices(1, prefix="live")
        t0 = loop.time()
        assert (await stream.until("devices", dev, timeout=1)).data == {"ids": [dev]}
        async with tenant.api() as api:
            r = await api.post("/customer/jobs", json={"job_id": "lj", "document_type": "fw",
                                                       "target_device_id": dev})  # fmt: skip
            assert r.status_code == 201, r.text
        assert (await stream.until("jobs", "lj", timeout=1)).data == {"ids": ["lj"]}
        async with tenant.device_api(dev) as d:
            for status in ("IN_PROGRESS", "SUCCEEDED"):
                t0 = loop.time()
                r = await d.put("/device/v1/jobs/lj/execution", json={"status": status})
                assert r.status_code == 200, r.text
                assert (await stream.until("jobs", "lj", timeout=1)).data == {"ids": ["lj"]}
                assert loop.time() - t0 < 1.0
        await tenant.create_group("lg", [dev])
        assert (await stream.until("groups", "lg", timeout=1)).data == {"ids": ["lg"]}


async def test_another_tenant_hears_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    async with stream_of(tenant) as a, stream_of(other_tenant) as b:
        await _ready(a)
        await _ready(b)
        [dev] = await tenant.create_devices(1, prefix="a")
        async with tenant.api() as api:
            r = await api.post(
                "/customer/jobs", json={"job_id": "aj", "document_type": "fw", "target_all": True}
            )
            assert r.status_code == 201, r.text
        await tenant.create_group("ag", [dev])
        await a.until("groups", "ag")  # A has heard all of it
        [mark] = await other_tenant.create_devices(1, prefix="b-mark")
        assert (await b.next()).data == {"ids": [mark]}  # B's first event is its own
        assert b.pending() == []


async def test_without_a_valid_session_401(tenant: Tenant, services: Services) -> None:
    forged = issue_token(_principal(tenant, "00000000-0000-0000-0000-000000000000"), "other-" + "y" * 40, 60)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": f"Bearer {forged}"}):
        async with EventStream(f"{services.ui.url}/customer/events", headers) as s:
            assert s.status == 401
    # a well-signed token of a user who does not exist
    ghost = issue_token(_principal(tenant, "00000000-0000-0000-0000-000000000000"), TEST_SECRET, 60)
    async with stream_of(tenant, ghost) as s:
        assert s.status == 401


def _principal(tenant: Tenant, user_id: str) -> Principal:
    return Principal(tenant_id=tenant.tenant_id, user_id=user_id, email="x@y.test", role="viewer")


@pytest.fixture
async def own_ui(services: Services, settings: Settings) -> AsyncIterator[LiveServer]:
    """An operator API of this test's own (stopped by the test or at its end), on the session's database."""
    server = await LiveServer(create_ui_app(settings, services.db.app_url)).start()
    hub: ConsoleHub = server.app.state.console_events
    await asyncio.wait_for(hub.listener.connected.wait(), 10)
    yield server
    if not server.server.should_exit:
        await server.stop()


async def test_the_stream_ends_when_the_server_stops(tenant: Tenant, own_ui: LiveServer) -> None:
    async with stream_of(tenant, url=own_ui.url) as stream:
        await _ready(stream)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.wait_for(own_ui.stop(), 5)
        await asyncio.wait_for(stream.ended.wait(), 5)
        assert loop.time() - t0 < 3  # not held until uvicorn's graceful timeout


async def test_a_reconnected_listener_sends_resync(
    tenant: Tenant, own_ui: LiveServer, services: Services
) -> None:
    hub: ConsoleHub = own_ui.app.state.console_events
    async with stream_of(tenant, url=own_ui.url) as stream:
        await _ready(stream)
        admin = await asyncpg.connect(services.db.admin_url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", hub.listener.backend_pid)
        finally:
            await admin.close()
        assert (await stream.until("resync", timeout=10)).data == {}
        assert hub.listener.connects == 2
        [dev] = await tenant.create_devices(1, prefix="after")  # and events flow again
        await stream.until("devices", dev)


async def test_the_stream_ends_when_the_session_no_longer_holds(
    services: Services, own_ui: LiveServer
) -> None:
    hub: ConsoleHub = own_ui.app.state.console_events
    hub.recheck_seconds = 0.3
    tenant = await make_tenant(services)
    async with stream_of(tenant, url=own_ui.url) as stream:
        await _ready(stream)
        owner = await connect(services.db.owner_url)
        try:
            await owner.execute("UPDATE users SET disabled = true WHERE tenant_id = $1", tenant.tenant_id)
        finally:
            await owner.close()
        await asyncio.wait_for(stream.ended.wait(), 5)
    # an expiring token: the stream ends once it has expired
    other = await make_tenant(services)
    async with other.api() as api:
        me = (await api.get("/auth/me")).json()
    short = issue_token(_principal(other, me["user_id"]), TEST_SECRET, 3, now=datetime.now(UTC).timestamp())
    async with stream_of(other, short, url=own_ui.url) as stream:
        await _ready(stream)
        await asyncio.wait_for(stream.ended.wait(), 8)
    assert hub.streams(tenant.tenant_id) == hub.streams(other.tenant_id) == 0

"""Rate limits and the bad-token limiter over real HTTP, with two replicas of each API on one database (the
counters live in PostgreSQL, so the replicas share them) and one clock moved instead of slept.

- the carrier-NAT case: many bad tokens from one address get 429, while a valid device behind the same
  address keeps working on both replicas; another address is not touched; the window ends and 401 is back;
- per device and per tenant on the device API, per user on the operator API: 429 with Retry-After (the
  seconds to the end of the window), and the next window lets the caller in again;
- with the limits off (the default), no counter is written at all."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from shared.infra.db import connect
from tests.conftest import Services, Tenant, make_tenant
from tests.support.pg import TestDB
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app

T0 = datetime(2026, 6, 1, 12, 0, 10, tzinfo=UTC)  # 10 s into a minute: a 60 s window has 50 s left
NAT = "127.0.0.7"  # the carrier NAT's address: every device behind it, and the attacker, share it
ELSEWHERE = "127.0.0.8"


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Replicas:
    clock: Clock
    ui: list[LiveServer]
    device: list[LiveServer]
    db: TestDB
    settings: Settings
    tenants: list[Tenant] = field(default_factory=list)

    def device_client(self, replica: int, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        return httpx.AsyncClient(base_url=self.device[replica].url, transport=transport, timeout=30)

    def ui_client(self, replica: int, tenant: Tenant) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.ui[replica].url, headers=tenant.auth, timeout=30)

    async def tenant(self, devices: int) -> Tenant:
        """A tenant made through replica 0, with `devices` devices."""
        tenant = await make_tenant(Services(self.ui[0], self.device[0], self.db, self.settings))
        await tenant.create_devices(devices, prefix="rl")
        return tenant

    async def counter_keys(self) -> list[str]:
        owner = await connect(self.db.owner_url)
        try:
            return [r[0] for r in await owner.fetch("SELECT key FROM rate_counters ORDER BY key")]
        finally:
            await owner.close()


@pytest.fixture
async def start(fresh_db: TestDB, settings: Settings) -> AsyncIterator[Callable[..., Any]]:
    started: list[LiveServer] = []

    async def start_replicas(**limits: Any) -> Replicas:
        tuned = settings.model_copy(update=limits)
        clock = Clock()
        servers: dict[str, list[LiveServer]] = {"ui": [], "device": []}
        for _ in range(2):
            for kind, make in (("ui", create_ui_app), ("device", create_device_app)):
                app = make(tuned, fresh_db.app_url)
                app.state.clock = clock
                server = await LiveServer(app).start()
                started.append(server)
                servers[kind].append(server)
        return Replicas(clock, servers["ui"], servers["device"], fresh_db, tuned)

    yield start_replicas
    for server in started:
        await server.stop()


def assert_limited(r: httpx.Response, retry_after: int, detail: str) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["retry-after"] == str(retry_after)
    body = r.json()
    assert (body["error"], body["retry_after"]) == ("rate_limited", retry_after)
    assert detail in body["detail"]


def bad() -> dict[str, str]:
    return {"X-Provision-Token": f"tok-guess-{uuid.uuid4().hex}"}


async def test_bad_tokens_behind_a_nat_never_lock_out_its_valid_devices(start: Callable[..., Any]) -> None:
    r = await start(device_auth_failures_per_minute=5)
    tenant = await r.tenant(2)
    valid = {"X-Provision-Token": tenant.tokens["rl-00000"]}
    async with r.device_client(0, NAT) as a, r.device_client(1, NAT) as b, r.device_client(0, ELSEWHERE) as c:
        # five failures, spread over both replicas: 401 each (a missing token is a failure too)
        for i in range(4):
            answer = await (a, b)[i % 2].get("/device/v1/jobs/pending", headers=bad())
            assert answer.status_code == 401, answer.text
        assert (await b.get("/device/v1/shadow")).status_code == 401
        # the sixth, on either replica: 429 until the window's end (50 s away)
        assert_limited(await a.get("/device/v1/jobs/pending", headers=bad()), 50, "from this address")
        assert_limited(await b.get("/device/v1/shadow", headers=bad()), 50, "from this address")
        # a valid device behind the same address works on both replicas, on every kind of route
        for client in (a, b):
            assert (await client.get("/device/v1/jobs/pending", headers=valid)).status_code == 200
            assert (await client.get("/device/v1/shadow", headers=valid)).status_code == 200
            other = {"X-Provision-Token": tenant.tokens["rl-00001"]}
            assert (await client.get("/device/v1/jobs/pending", headers=other)).status_code == 200
        # ...while brute force from that address stays throttled, missing token included
        for client in (a, b):
            assert_limited(
                await client.get("/device/v1/jobs/pending", headers=bad()), 50, "from this address"
            )
            r_put = await client.put(
                "/device/v1/jobs/j/execution", headers=bad(), json={"status": "SUCCEEDED"}
            )
            assert_limited(r_put, 50, "from this address")
            assert_limited(await client.get("/device/v1/shadow"), 50, "from this address")
        # another address is not touched
        assert (await c.get("/device/v1/jobs/pending", headers=bad())).status_code == 401
        # the window ends: the address gets 401 again (and a new allowance)
        r.clock.now = T0 + timedelta(seconds=50)
        assert (await b.get("/device/v1/jobs/pending", headers=bad())).status_code == 401
    # with the rate limits off, valid requests wrote no counter: only the addresses that failed have one
    assert await r.counter_keys() == [f"address:{NAT}", f"address:{ELSEWHERE}"]


async def test_device_limits_per_device_and_per_tenant_hold_across_replicas(
    start: Callable[..., Any],
) -> None:
    r = await start(device_requests_per_device=4, device_requests_per_tenant=6, rate_limit_window_seconds=60)
    tenant, other = await r.tenant(2), await r.tenant(1)
    d0 = {"X-Provision-Token": tenant.tokens["rl-00000"]}
    d1 = {"X-Provision-Token": tenant.tokens["rl-00001"]}
    elsewhere = {"X-Provision-Token": other.tokens["rl-00000"]}
    async with r.device_client(0) as a, r.device_client(1) as b:
        # device 0: four requests over both replicas and both kinds of route, then 429 on either
        for i, path in enumerate(("/device/v1/jobs/pending", "/device/v1/shadow") * 2):
            answer = await (a, b)[i % 2].get(path, headers=d0)
            assert answer.status_code == 200, answer.text
        assert_limited(await a.get("/device/v1/shadow", headers=d0), 50, "this device or its tenant")
        assert_limited(await b.get("/device/v1/jobs/pending", headers=d0), 50, "this device or its tenant")
        # device 1: its own allowance, but the tenant's (6, refused requests counted) runs out first
        assert (await b.get("/device/v1/jobs/pending", headers=d1)).status_code == 429
        # an unknown token is not counted against anyone, and still gets 401
        assert (await a.get("/device/v1/jobs/pending", headers=bad())).status_code == 401
        # another tenant's device is not touched
        assert (await a.get("/device/v1/jobs/pending", headers=elsewhere)).status_code == 200
        # the next window lets them in again
        r.clock.now = T0 + timedelta(seconds=55)
        for headers in (d0, d1):
            assert (await b.get("/device/v1/jobs/pending", headers=headers)).status_code == 200
    keys = await r.counter_keys()
    assert f"tenant:{tenant.tenant_id}" in keys and f"device:{tenant.tenant_id}/rl-00000" in keys


async def test_device_tenant_limit_alone(start: Callable[..., Any]) -> None:
    r = await start(device_requests_per_tenant=3)
    tenant = await r.tenant(3)
    async with r.device_client(0) as a, r.device_client(1) as b:
        for i in range(3):
            headers = {"X-Provision-Token": tenant.tokens[f"rl-{i:05d}"]}
            assert (await (a, b)[i % 2].get("/device/v1/jobs/pending", headers=headers)).status_code == 200
        headers = {"X-Provision-Token": tenant.tokens["rl-00000"]}
        assert_limited(await b.get("/device/v1/jobs/pending", headers=headers), 50, "its tenant")
    assert not [k for k in await r.counter_keys() if k.startswith("device:")]  # per device is off


async def test_operator_limit_per_user_holds_across_replicas(start: Callable[..., Any]) -> None:
    r = await start(operator_requests_per_user=5)
    tenant = await r.tenant(0)
    colleague = await make_tenant(Services(r.ui[0], r.device[0], r.db, r.settings))
    async with r.ui_client(0, tenant) as a, r.ui_client(1, tenant) as b, r.ui_client(1, colleague) as c:
        for i in range(5):
            answer = await (a, b)[i % 2].get("/customer/devices")
            assert answer.status_code == 200, answer.text
        assert_limited(await a.get("/customer/jobs"), 50, "from this user")
        assert_limited(await b.get("/auth/me"), 50, "from this user")
        assert (await c.get("/customer/devices")).status_code == 200  # another user is not touched
        r.clock.now = T0 + timedelta(minutes=1)
        assert (await b.get("/customer/devices")).status_code == 200

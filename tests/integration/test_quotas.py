"""Quotas per tenant over real HTTP: set with `iotcloud set-quota` (a process, as a user runs it) or over the
owner connection, read back with GET /customer/quotas, and enforced: over a quota the request gets 403
`quota_exceeded` and nothing is stored (no partial job: not one execution nor counter of it). Concurrent
creates at quota - 1 let exactly one through, for devices and for active jobs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.infra.db import connect
from shared.quotas import set_quotas
from tests.conftest import Services, Tenant, make_tenant
from tests.integration.reliability.invariants import check_all
from tests.integration.test_cli_admin import clear_error, iotcloud, ok
from tests.support.locks import until_waiting
from tests.support.pg import TestDB
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app


@pytest.fixture(autouse=True)
async def exact_after(services: Services) -> AsyncIterator[None]:
    """Counters, history chains and completion are exact after each test (a refused job left nothing)."""
    yield
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()


async def set_quota(services: Services, tenant: Tenant, **changes: int | None) -> None:
    owner = await connect(services.db.owner_url)
    try:
        await set_quotas(owner, tenant.tenant_id, changes)
    finally:
        await owner.close()


async def owner_count(services: Services, sql: str, *args: Any) -> int:
    owner = await connect(services.db.owner_url)
    try:
        return int(await owner.fetchval(sql, *args))
    finally:
        await owner.close()


async def all_at_once(
    services: Services, table: str, requests: list[Coroutine[Any, Any, httpx.Response]]
) -> list[httpx.Response]:
    """Sends the requests while `table` is locked against writes, and lets them go once every one of them
    waits on a lock (the table's, or the quota's): without the quota's lock, each would count the rows
    before any had written, and all would get through."""
    admin = await connect(services.db.admin_url)
    owner = await connect(services.db.owner_url)
    try:
        async with owner.transaction():
            await owner.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            sent = asyncio.ensure_future(asyncio.gather(*requests))
            await until_waiting(admin, services.db.name, len(requests), sent)
        return list(await sent)
    finally:
        await owner.close()
        await admin.close()


async def quotas(tenant: Tenant) -> dict[str, Any]:
    async with tenant.api() as api:
        r = await api.get("/customer/quotas")
    assert r.status_code == 200, r.text
    return dict(r.json())


def assert_over_quota(r: httpx.Response, quota: str, limit: int, used: int) -> None:
    assert r.status_code == 403, r.text
    body = r.json()
    assert (body["error"], body["quota"], body["limit"], body["used"]) == (
        "quota_exceeded",
        quota,
        limit,
        used,
    )
    assert f"{quota} quota is {limit}" in body["detail"] and "nothing was stored" in body["detail"]


async def test_without_quotas_nothing_is_limited_and_usage_is_read(tenant: Tenant) -> None:
    devs = await tenant.create_devices(3, prefix="free")
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", "target_all": True})
        assert r.status_code == 201, r.text
        assert (await api.post(f"/customer/devices/{devs[0]}/revoke")).status_code == 200
    assert await quotas(tenant) == {
        "devices": {"limit": None, "used": 2},  # ACTIVE devices: the revoked one is not counted
        "active_jobs": {"limit": None, "used": 1},
        "executions_per_job": {"limit": None, "used": 3},
        "artifact_bytes": {"limit": None, "used": 0},
    }


async def test_set_quota_cli_sets_clears_and_refuses_clearly(fresh_db: TestDB, tmp_path: Path) -> None:
    ok(iotcloud(fresh_db, tmp_path, "create-tenant", "acme"))
    out = ok(iotcloud(fresh_db, tmp_path, "set-quota", "acme", "--devices", "100", "--active-jobs", "5"))
    assert out == (
        "quotas of acme: devices 100, active jobs 5, executions per job none, artifact bytes none\n"
    )
    out = ok(iotcloud(fresh_db, tmp_path, "set-quota", "acme", "--executions-per-job", "1000",
                      "--devices", "none"))  # fmt: skip
    assert out == (
        "quotas of acme: devices none, active jobs 5, executions per job 1000, artifact bytes none\n"
    )
    owner = await connect(fresh_db.owner_url)
    try:
        row = await owner.fetchrow(
            "SELECT max_devices, max_active_jobs, max_executions_per_job, max_artifact_bytes FROM tenants"
        )
    finally:
        await owner.close()
    assert tuple(row or ()) == (None, 5, 1000, None)
    clear_error(iotcloud(fresh_db, tmp_path, "set-quota", "nope", "--devices", "1"), "no tenant 'nope'")
    result = iotcloud(fresh_db, tmp_path, "set-quota", "acme", "--active-jobs", "-3")
    clear_error(result, "--active-jobs: a whole number >= 0, or none (no limit); got '-3'")
    assert result.returncode == 2


async def test_devices_over_quota_get_403_and_nothing_is_stored(services: Services, tenant: Tenant) -> None:
    await tenant.create_devices(2, prefix="q")
    await set_quota(services, tenant, devices=2)
    async with tenant.api() as api:
        r = await api.post("/customer/devices", json={"device_id": "q-extra"})
        assert_over_quota(r, "devices", 2, 2)
        assert (await api.get("/customer/devices/q-extra")).status_code == 404
        # a revoked device frees its place
        assert (await api.post("/customer/devices/q-00000/revoke")).status_code == 200
        assert (await api.post("/customer/devices", json={"device_id": "q-extra"})).status_code == 201
    assert (await quotas(tenant))["devices"] == {"limit": 2, "used": 2}


async def test_concurrent_device_creates_at_quota_minus_one_let_exactly_one_through(
    services: Services,
) -> None:
    """Over two replicas of the operator API on the one database."""
    tenant = await make_tenant(services)
    await tenant.create_devices(4, prefix="race")
    await set_quota(services, tenant, devices=5)
    replica = await LiveServer(create_ui_app(services.settings, services.db.app_url)).start()
    try:
        async with (
            tenant.api() as api,
            httpx.AsyncClient(base_url=replica.url, headers=tenant.auth, timeout=30) as api2,
        ):
            answers = await all_at_once(
                services,
                "device_state",
                [
                    (api, api2)[i % 2].post("/customer/devices", json={"device_id": f"racer-{i}"})
                    for i in range(12)
                ],
            )
    finally:
        await replica.stop()
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [403] * 11, [r.text for r in answers]
    for r in answers:
        if r.status_code == 403:
            assert r.json()["error"] == "quota_exceeded"
    count = await owner_count(
        services, "SELECT count(*) FROM device_state WHERE tenant_id = $1", tenant.tenant_id
    )
    assert count == 5


async def test_concurrent_job_creates_at_quota_minus_one_let_exactly_one_through(
    services: Services,
) -> None:
    tenant = await make_tenant(services)
    await tenant.create_devices(3, prefix="aj")
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", "target_all": True})
        assert r.status_code == 201, r.text
    await set_quota(services, tenant, active_jobs=2)
    async with tenant.api() as api:
        answers = await all_at_once(
            services,
            "jobs",
            [api.post("/customer/jobs", json={"document_type": "fw", "target_all": True}) for _ in range(10)],
        )
    assert sorted(r.status_code for r in answers) == [201] + [403] * 9, [r.text for r in answers]
    refused = next(r for r in answers if r.status_code == 403)
    assert_over_quota(refused, "active_jobs", 2, 2)
    assert (
        await owner_count(services, "SELECT count(*) FROM jobs WHERE tenant_id = $1", tenant.tenant_id) == 2
    )
    executions = await owner_count(
        services, "SELECT count(*) FROM job_executions WHERE tenant_id = $1", tenant.tenant_id
    )
    assert executions == 6
    assert (await quotas(tenant))["active_jobs"] == {"limit": 2, "used": 2}
    # a job that ends frees its place: cancel one, and the next create goes through
    job_id = next(r.json()["job_id"] for r in answers if r.status_code == 201)
    async with tenant.api() as api:
        assert (await api.post(f"/customer/jobs/{job_id}/cancel", json={})).status_code == 200
        r = await api.post("/customer/jobs", json={"document_type": "fw", "target_all": True})
        assert r.status_code == 201, r.text


async def test_a_job_over_the_executions_quota_is_refused_whole(services: Services, tenant: Tenant) -> None:
    devs = await tenant.create_devices(5, prefix="ex")
    await tenant.create_group("five", devs)
    await tenant.create_group("three", devs[:3])
    await set_quota(services, tenant, executions_per_job=3)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"job_id": "big", "document_type": "fw", "target_group_id": "five"}
        )
        assert_over_quota(r, "executions_per_job", 3, 5)
        assert (await api.get("/customer/jobs/big")).status_code == 404
        r = await api.post(
            "/customer/jobs", json={"job_id": "all", "document_type": "fw", "target_all": True}
        )
        assert_over_quota(r, "executions_per_job", 3, 5)
        r = await api.post(
            "/customer/jobs", json={"job_id": "ok", "document_type": "fw", "target_group_id": "three"}
        )
        assert r.status_code == 201, r.text
    for table in ("jobs", "job_executions", "job_counters"):
        stored = await owner_count(
            services,
            f"SELECT count(*) FROM {table} WHERE tenant_id = $1 AND job_id <> 'ok'",
            tenant.tenant_id,
        )
        assert stored == 0, table
    assert (await quotas(tenant))["executions_per_job"] == {"limit": 3, "used": 3}


async def test_a_quota_of_one_tenant_leaves_the_others_alone(services: Services) -> None:
    limited, other = await make_tenant(services), await make_tenant(services)
    await set_quota(services, limited, devices=0, active_jobs=0)
    async with limited.api() as api:
        assert_over_quota(await api.post("/customer/devices", json={}), "devices", 0, 0)
    await other.create_devices(2, prefix="free")
    async with other.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", "target_all": True})
        assert r.status_code == 201, r.text
    assert (await quotas(other))["devices"] == {"limit": None, "used": 2}


async def test_artifact_storage_over_quota_gets_403_and_keeps_nothing(
    services: Services, tenant: Tenant
) -> None:
    await set_quota(services, tenant, artifact_bytes=10)
    async with tenant.api() as api:
        up = "/customer/artifacts?name="
        assert (await api.post(up + "a.bin", content=b"123456")).status_code == 201
        assert_over_quota(await api.post(up + "b.bin", content=b"abcdefg"), "artifact_bytes", 10, 6)
        assert (await api.get("/customer/artifacts/b.bin")).status_code == 404
        # the same content under another name is stored once: it costs nothing
        assert (await api.post(up + "a-copy.bin", content=b"123456")).status_code == 201
        assert (await api.post(up + "c.bin", content=b"abcd")).status_code == 201  # exactly 10
        assert (await quotas(tenant))["artifact_bytes"] == {"limit": 10, "used": 10}
        assert (await api.delete("/customer/artifacts/c.bin")).status_code == 204
        assert (await quotas(tenant))["artifact_bytes"] == {"limit": 10, "used": 6}

"""The expiry tick, with an injected clock: exact, batched, exactly once, safe side by side."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from ops_worker.ticks import default_ticks
from ops_worker.worker import run_tick_locked
from shared.infra.db import SET_TENANT, connect
from shared.jobs.expiry import run_jobs_expiry_tick
from tests.conftest import Services, Tenant

T0 = datetime(2031, 6, 1, tzinfo=UTC)


async def _job(t: Tenant, job_id: str) -> dict[str, Any]:
    async with t.api() as api:
        r = await api.get(f"/customer/jobs/{job_id}")
        assert r.status_code == 200
        return dict(r.json())


async def _bulk_devices(services: Services, tenant: Tenant, n: int, group: str) -> None:
    """Registers n devices in a group with SQL (fast), as the runtime role in the tenant's transaction."""
    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            await conn.execute(
                "INSERT INTO device_state (tenant_id, device_id, name, token_hash) "
                "SELECT $1, 'bulk-' || lpad(i::text, 6, '0'), '', md5($1 || i::text) || md5(i::text) "
                "FROM generate_series(1, $2) i",
                tenant.tenant_id,
                n,
            )
            await conn.execute(
                "INSERT INTO device_groups (tenant_id, group_id, name) VALUES ($1, $2, $2)",
                tenant.tenant_id,
                group,
            )
            await conn.execute(
                "INSERT INTO device_group_members (tenant_id, group_id, device_id) "
                "SELECT $1, $2, device_id FROM device_state WHERE device_id LIKE 'bulk-%'",
                tenant.tenant_id,
                group,
            )
    finally:
        await conn.close()


async def test_tick_times_out_queued_and_completes(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs = await tenant.create_devices(3)
    await tenant.create_group("exp3", devs)
    clock.set_clock(T0)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs",
            json={
                "document_type": "fw",
                "target_group_id": "exp3",
                "expires_in_hours": 1,
                "job_id": "exp-job",
            },
        )
        assert r.status_code == 201
        other = await api.post(
            "/customer/jobs",
            json={
                "document_type": "fw",
                "target_device_id": devs[0],
                "expires_in_hours": 5,
                "job_id": "later-job",
            },
        )
        assert other.status_code == 201
    async with tenant.device_api(devs[0]) as d:
        assert (
            await d.put("/device/v1/jobs/exp-job/execution", json={"status": "IN_PROGRESS"})
        ).status_code == 200

    before = await run_jobs_expiry_tick(app_pool, T0 + timedelta(minutes=59))
    # the tick runs over every tenant of the shared test database: look at this tenant's share only
    assert before.timed_out_by_tenant.get(tenant.tenant_id, 0) == 0
    assert (await _job(tenant, "exp-job"))["counts"]["queued"] == 2

    result = await run_jobs_expiry_tick(app_pool, T0 + timedelta(hours=1))
    assert result.timed_out_by_tenant[tenant.tenant_id] == 2
    assert not [
        j for j in result.completed_jobs if j[0] == tenant.tenant_id
    ]  # one execution is still IN_PROGRESS
    job = await _job(tenant, "exp-job")
    assert job["status"] == "IN_PROGRESS"
    assert job["counts"] == {
        "queued": 0,
        "in_progress": 1,
        "succeeded": 0,
        "failed": 0,
        "timed_out": 2,
        "rejected": 0,
    }
    by_dev = {e["device_id"]: e for e in job["executions"]}
    assert by_dev[devs[1]]["status"] == "TIMED_OUT" and by_dev[devs[1]]["status_details"] == {
        "reason": "job_expired"
    }
    assert (await _job(tenant, "later-job"))["counts"]["queued"] == 1  # not yet expired

    again = await run_jobs_expiry_tick(app_pool, T0 + timedelta(hours=1))
    assert again.timed_out_by_tenant.get(tenant.tenant_id, 0) == 0  # nothing is done twice

    clock.set_clock(T0 + timedelta(hours=1, minutes=1))
    async with tenant.device_api(devs[0]) as d:
        r = await d.put("/device/v1/jobs/exp-job/execution", json={"status": "SUCCEEDED"})
        assert r.status_code == 200
    job = await _job(tenant, "exp-job")
    assert job["status"] == "COMPLETED" and job["counts"]["succeeded"] == 1
    async with tenant.api() as api:
        events = (await api.get(f"/customer/jobs/exp-job/executions/{devs[2]}/events")).json()["events"]
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("QUEUED", "TIMED_OUT", "worker")
    ]


async def test_contract_step8_backdated_expiry(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    [dev] = await tenant.create_devices(1)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs",
            json={
                "document_type": "test_expiry",
                "document_params": {},
                "target_device_id": dev,
                "expires_in_hours": 24,
            },
        )
        job_id = r.json()["job_id"]
    owner = await connect(services.db.owner_url)
    try:
        await owner.execute(
            "UPDATE jobs SET expires_at = NOW() - INTERVAL '1 minute' WHERE job_id = $1", job_id
        )
    finally:
        await owner.close()
    [tick] = default_ticks(60)
    assert await run_tick_locked(app_pool, tick, datetime.now(UTC))
    job = await _job(tenant, job_id)
    assert (job["status"], job["executions"][0]["status"]) == ("COMPLETED", "TIMED_OUT")


async def test_batched_expiry_of_a_large_job_keeps_counters_exact(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    await _bulk_devices(services, tenant, 2500, "big")
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs",
            json={
                "document_type": "fw",
                "target_group_id": "big",
                "expires_in_hours": 1,
                "job_id": "big-job",
            },
        )
        assert r.status_code == 201 and r.json()["execution_count"] == 2500
    created = datetime.fromisoformat(r.json()["created_at"])
    result = await run_jobs_expiry_tick(app_pool, created + timedelta(hours=2), batch_size=300)
    assert result.timed_out_by_tenant[tenant.tenant_id] == 2500
    assert (tenant.tenant_id, "big-job") in result.completed_jobs
    job = await _job(tenant, "big-job")
    assert (
        job["status"] == "COMPLETED" and job["counts"]["timed_out"] == 2500 and job["counts"]["queued"] == 0
    )
    assert job["executions_truncated"] is True and len(job["executions"]) == job["executions_limit"] == 1000
    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM job_executions WHERE job_id='big-job' AND status='TIMED_OUT'"
                )
                == 2500
            )
            assert (
                await conn.fetchval("SELECT count(*) FROM job_execution_events WHERE job_id='big-job'")
                == 2500
            )
    finally:
        await conn.close()


async def test_concurrent_ticks_do_the_work_once(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs = await tenant.create_devices(40)
    await tenant.create_group("race", devs)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs",
            json={
                "document_type": "fw",
                "target_group_id": "race",
                "expires_in_hours": 1,
                "job_id": "race-job",
            },
        )
    created = datetime.fromisoformat(r.json()["created_at"])
    later = created + timedelta(hours=2)
    # without the lease (guards alone) and with it: either way every execution times out exactly once
    results = await asyncio.gather(*(run_jobs_expiry_tick(app_pool, later, batch_size=7) for _ in range(4)))
    assert sum(r.timed_out_by_tenant.get(tenant.tenant_id, 0) for r in results) == 40
    assert sum(r.completed_jobs.count((tenant.tenant_id, "race-job")) for r in results) == 1
    [tick] = default_ticks(60)
    ran = await asyncio.gather(*(run_tick_locked(app_pool, tick, later) for _ in range(3)))
    assert any(ran)
    job = await _job(tenant, "race-job")
    assert job["status"] == "COMPLETED" and job["counts"]["timed_out"] == 40

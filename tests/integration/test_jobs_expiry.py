"""The expiry tick, with an injected clock: exact, batched, exactly once, safe side by side, and under a
lease that lets one worker run it at a time."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from ops_worker.ticks import Tick, default_ticks
from ops_worker.worker import run_tick_locked
from shared.infra.db import connect, create_pool, tenant_tx
from shared.jobs.expiry import run_jobs_expiry_tick
from shared.jobs.service import create_job, get_job_with_executions
from shared.tenants import create_tenant
from tests.conftest import Services, Tenant
from tests.support.pg import TestDB

T0 = datetime(2031, 6, 1, tzinfo=UTC)


async def _job(t: Tenant, job_id: str) -> dict[str, Any]:
    async with t.api() as api:
        r = await api.get(f"/customer/jobs/{job_id}")
        assert r.status_code == 200
        return dict(r.json())


async def _bulk_rows(conn: asyncpg.Connection, tenant_id: str, n: int, group: str) -> None:
    """Registers n devices in a group with SQL (fast), in the caller's tenant transaction."""
    await conn.execute(
        "INSERT INTO device_state (tenant_id, device_id, name, token_hash) "
        "SELECT $1, 'bulk-' || lpad(i::text, 6, '0'), '', md5($1 || i::text) || md5(i::text) "
        "FROM generate_series(1, $2) i",
        tenant_id,
        n,
    )
    await conn.execute(
        "INSERT INTO device_groups (tenant_id, group_id, name) VALUES ($1, $2, $2)", tenant_id, group
    )
    await conn.execute(
        "INSERT INTO device_group_members (tenant_id, group_id, device_id) "
        "SELECT $1, $2, device_id FROM device_state WHERE device_id LIKE 'bulk-%'",
        tenant_id,
        group,
    )


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
        "canceled": 0,
        "removed": 0,
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
    tick = next(t for t in default_ticks(60) if t.name == "jobs_expiry")
    assert await run_tick_locked(app_pool, tick, datetime.now(UTC))
    job = await _job(tenant, job_id)
    assert (job["status"], job["executions"][0]["status"]) == ("COMPLETED", "TIMED_OUT")


async def test_batched_expiry_of_a_large_job_keeps_counters_exact(fresh_db: TestDB) -> None:
    """On a database of its own, so that the tick's totals are this job's alone: 2,500 executions in
    batches of 300 take exactly 9 batches (8 full, the 9th of 100 ends the scan), each its own transaction."""
    tenant_id = "big"
    owner = await connect(fresh_db.owner_url)
    try:
        await create_tenant(owner, tenant_id, tenant_id)
    finally:
        await owner.close()
    pool = await create_pool(fresh_db.app_url, min_size=1, max_size=4)
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            await _bulk_rows(conn, tenant_id, 2500, "big")
            job = await create_job(
                conn,
                job_id="big-job",
                document_type="fw",
                document_params={},
                target_device_id=None,
                target_group_id="big",
                target_all=False,
                expires_in_hours=1,
                created_by=None,
                now=T0,
            )
        assert job["execution_count"] == 2500
        result = await run_jobs_expiry_tick(pool, T0 + timedelta(hours=2), batch_size=300)
        assert (result.timed_out, result.jobs, result.batches) == (2500, 1, 9)
        assert result.completed_jobs == [(tenant_id, "big-job")]
        async with tenant_tx(pool, tenant_id) as conn:
            job = await get_job_with_executions(conn, "big-job")
            by_status = dict(
                await conn.fetch(
                    "SELECT status, count(*) FROM job_executions WHERE job_id='big-job' GROUP BY 1"
                )
            )
            events = await conn.fetchval("SELECT count(*) FROM job_execution_events WHERE job_id='big-job'")
            # a row's xmin is the transaction that last wrote it: one per batch
            writers = await conn.fetchval(
                "SELECT count(DISTINCT xmin::text) FROM job_executions WHERE job_id='big-job'"
            )
        assert (
            job["status"] == "COMPLETED"
            and job["counts"]["timed_out"] == 2500
            and job["counts"]["queued"] == 0
        )
        assert (
            job["executions_truncated"] is True and len(job["executions"]) == job["executions_limit"] == 1000
        )
        assert by_status == {"TIMED_OUT": 2500} and events == 2500
        assert writers == 9
    finally:
        await pool.close()


async def test_concurrent_ticks_do_the_work_once(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    """Without the lease, the status guards alone: four ticks at once time every execution out once."""
    later = await _race_job(tenant, "race-job", 40)
    results = await asyncio.gather(*(run_jobs_expiry_tick(app_pool, later, batch_size=7) for _ in range(4)))
    assert sum(r.timed_out_by_tenant.get(tenant.tenant_id, 0) for r in results) == 40
    assert sum(r.completed_jobs.count((tenant.tenant_id, "race-job")) for r in results) == 1
    job = await _job(tenant, "race-job")
    assert job["status"] == "COMPLETED" and job["counts"]["timed_out"] == 40


async def test_tick_skips_while_another_worker_holds_the_lease(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    later = await _race_job(tenant, "leased-job", 5)
    tick = next(t for t in default_ticks(60) if t.name == "jobs_expiry")
    other_worker = await connect(services.db.app_url)
    try:
        assert await other_worker.fetchval("SELECT pg_try_advisory_lock($1)", tick.lock_key)
        assert await run_tick_locked(app_pool, tick, later) is False
        assert (await _job(tenant, "leased-job"))["counts"]["queued"] == 5  # the tick did nothing
        await other_worker.execute("SELECT pg_advisory_unlock($1)", tick.lock_key)
    finally:
        await other_worker.close()
    assert await run_tick_locked(app_pool, tick, later) is True
    job = await _job(tenant, "leased-job")
    assert job["status"] == "COMPLETED" and job["counts"]["timed_out"] == 5


async def test_ticks_started_together_run_one_at_a_time(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    """Three workers start the tick at once; the one holding the lease waits inside its tick until the
    others have answered: they must have skipped, and only one tick was ever running."""
    later = await _race_job(tenant, "lease-race-job", 5)
    tick = next(t for t in default_ticks(60) if t.name == "jobs_expiry")
    gate = asyncio.Event()
    inside = peak = 0

    async def held_open(pool: asyncpg.Pool, now: datetime) -> Any:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        try:
            await gate.wait()
            return await tick.run(pool, now)
        finally:
            inside -= 1

    gated = Tick(tick.name, tick.interval, tick.lock_key, held_open)
    runs = [asyncio.create_task(run_tick_locked(app_pool, gated, later)) for _ in range(3)]
    for _ in range(1000):  # until two have answered, or more than one got in
        if sum(r.done() for r in runs) >= 2 or peak > 1:
            break
        await asyncio.sleep(0.01)
    gate.set()
    ran = await asyncio.gather(*runs)
    assert peak == 1, f"{peak} ticks ran at the same time"
    assert sorted(ran) == [False, False, True]
    job = await _job(tenant, "lease-race-job")
    assert job["status"] == "COMPLETED" and job["counts"]["timed_out"] == 5


async def _race_job(tenant: Tenant, job_id: str, n: int) -> datetime:
    """A group job on n new devices, expiring in an hour; returns a time two hours after its creation."""
    devs = await tenant.create_devices(n, prefix=job_id)
    await tenant.create_group(job_id, devs)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs",
            json={"document_type": "fw", "target_group_id": job_id, "expires_in_hours": 1, "job_id": job_id},
        )
        assert r.status_code == 201, r.text
    return datetime.fromisoformat(r.json()["created_at"]) + timedelta(hours=2)

"""A job completes exactly once, counted by who reports having completed it: the device's move
(`job_completed` from shared.jobs.device.device_update, the call behind PUT /device/v1/jobs/{id}/execution)
and the worker's tick (ExpiryResult.completed_jobs). Exactly one of the last movers completes the job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from shared.auth import token_hash
from shared.infra.db import SET_TENANT, connect, create_pool
from shared.jobs.device import device_update
from shared.jobs.expiry import run_jobs_expiry_tick
from shared.jobs.group_commit import GroupCommit
from shared.jobs.states import ExecutionStatus
from tests.conftest import Services, Tenant
from tests.support.locks import until_waiting

N = 64


@pytest.fixture
async def pool(services: Services) -> AsyncIterator[asyncpg.Pool]:
    """Enough connections for every device to be in the database at once."""
    pool = await create_pool(services.db.app_url, min_size=0, max_size=N // 2)
    yield pool
    await pool.close()


async def _job(tenant: Tenant, job_id: str, **extra: Any) -> datetime:
    async with tenant.api() as api:
        body = {"document_type": "x", "target_group_id": "last", "job_id": job_id, **extra}
        r = await api.post("/customer/jobs", json=body)
        assert r.status_code == 201, r.text
    return datetime.fromisoformat(r.json()["created_at"])


async def _status(tenant: Tenant, job_id: str) -> dict[str, Any]:
    async with tenant.api() as api:
        return dict((await api.get(f"/customer/jobs/{job_id}")).json())


async def test_last_devices_finishing_together_complete_the_job_once(
    services: Services, tenant: Tenant, pool: asyncpg.Pool
) -> None:
    devs = await tenant.create_devices(N, prefix="last")
    await tenant.create_group("last", devs)
    hashes = {d: token_hash(tenant.tokens[d]) for d in devs}

    async def move(dev: str, job_id: str, to: ExecutionStatus, now: datetime) -> dict[str, Any]:
        return await device_update(GroupCommit(pool, 60), hashes[dev], job_id, to, None, None, now)

    for round_ in range(3):
        job_id = f"last-{round_}"
        now = await _job(tenant, job_id)
        claims = await asyncio.gather(*(move(d, job_id, ExecutionStatus.IN_PROGRESS, now) for d in devs))
        assert not any(c["job_completed"] for c in claims)
        done = await asyncio.gather(*(move(d, job_id, ExecutionStatus.SUCCEEDED, now) for d in devs))
        assert {d["status"] for d in done} == {"SUCCEEDED"}
        assert sum(d["job_completed"] for d in done) == 1, f"round {round_}"
        job = await _status(tenant, job_id)
        assert job["status"] == "COMPLETED" and job["counts"]["succeeded"] == N and job["completed_at"]


async def test_devices_and_the_expiry_tick_finishing_together_complete_the_job_once(
    services: Services, tenant: Tenant, pool: asyncpg.Pool
) -> None:
    """Half the devices finish their executions while the tick times out the other half, never claimed:
    whichever side makes the last move completes the job, and only that one says so."""
    devs = await tenant.create_devices(N, prefix="last")
    await tenant.create_group("last", devs)
    hashes = {d: token_hash(tenant.tokens[d]) for d in devs}
    working = devs[: N // 2]
    for round_ in range(3):
        job_id = f"mixed-{round_}"
        created = await _job(tenant, job_id, expires_in_hours=1)
        for d in working:
            await device_update(
                GroupCommit(pool, 60), hashes[d], job_id, ExecutionStatus.IN_PROGRESS, None, None, created
            )
        later = created + timedelta(hours=2)
        tick, *done = await asyncio.gather(
            run_jobs_expiry_tick(pool, later, batch_size=4),
            *(
                device_update(
                    GroupCommit(pool, 60), hashes[d], job_id, ExecutionStatus.SUCCEEDED, None, None, later
                )
                for d in working
            ),
        )
        by_devices = sum(d["job_completed"] for d in done)
        by_worker = tick.completed_jobs.count((tenant.tenant_id, job_id))
        assert by_devices + by_worker == 1, (round_, by_devices, by_worker)
        job = await _status(tenant, job_id)
        assert job["status"] == "COMPLETED"
        assert (job["counts"]["succeeded"], job["counts"]["timed_out"]) == (N // 2, N // 2)


async def test_device_and_tick_ending_a_job_together_complete_it_once(
    services: Services, tenant: Tenant, pool: asyncpg.Pool
) -> None:
    """Forced order: the job row is held while the last device's move and then the tick's timeout of the
    other execution queue on it, each with its own move made but not committed. The device, first in line,
    cannot complete the job (the tick's timeout is not committed yet); the tick, next, sees the device's move
    committed and completes it. Exactly one of them says it did."""
    devs = await tenant.create_devices(2, prefix="held")
    await tenant.create_group("last", devs)
    working = token_hash(tenant.tokens[devs[0]])  # the other device never moves: the tick times it out
    created = await _job(tenant, "held", expires_in_hours=1)
    await device_update(
        GroupCommit(pool, 60), working, "held", ExecutionStatus.IN_PROGRESS, None, None, created
    )
    later = created + timedelta(hours=2)
    admin = await connect(services.db.admin_url)
    holder = await connect(services.db.app_url)
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute(SET_TENANT, tenant.tenant_id)
        await holder.execute("SELECT 1 FROM jobs WHERE job_id = 'held' FOR UPDATE")
        device = asyncio.create_task(
            device_update(
                GroupCommit(pool, 60), working, "held", ExecutionStatus.SUCCEEDED, None, None, later
            )
        )
        await until_waiting(admin, services.db.name, 1, device)
        tick = asyncio.create_task(run_jobs_expiry_tick(pool, later))  # times out the other, then waits
        await until_waiting(admin, services.db.name, 2, tick)
        await tx.rollback()
        finished, expiry = await device, await tick
    finally:
        await holder.close()
        await admin.close()
    assert finished["status"] == "SUCCEEDED" and finished["job_completed"] is False
    assert expiry.timed_out_by_tenant[tenant.tenant_id] == 1
    assert (tenant.tenant_id, "held") in expiry.completed_jobs
    job = await _status(tenant, "held")
    assert job["status"] == "COMPLETED" and (job["counts"]["succeeded"], job["counts"]["timed_out"]) == (1, 1)

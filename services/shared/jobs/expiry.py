"""The jobs tick's timeouts, tenant by tenant under RLS, in bounded batches:
- job expiry: QUEUED executions of running jobs past expires_at become TIMED_OUT;
- in-progress timeout: IN_PROGRESS executions past their timeout_at (claim + the job's
  in_progress_timeout_minutes) become TIMED_OUT.
Jobs whose executions are then all terminal become COMPLETED."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from shared.infra.db import tenant_tx, tx
from shared.jobs import queries as q
from shared.jobs.service import complete_if_done, move_counts

log = logging.getLogger("iotcloud.jobs.expiry")

TIMEOUT_DETAILS = {"reason": "job_expired"}
OVERDUE_DETAILS = {"reason": "in_progress_timeout"}
RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


@dataclass
class ExpiryResult:
    timed_out: int = 0
    completed: int = 0
    jobs: int = 0
    batches: int = 0
    tenants: list[str] = field(default_factory=list)
    timed_out_by_tenant: dict[str, int] = field(default_factory=dict)
    completed_jobs: list[tuple[str, str]] = field(default_factory=list)  # (tenant_id, job_id)
    overdue_timed_out: int = 0  # IN_PROGRESS executions past their in-progress timeout
    # timed_out counts expired QUEUED executions only; timed_out_by_tenant counts both kinds of timeout.


async def _expire_job(
    pool: asyncpg.Pool, tenant_id: str, job_id: str, now: datetime, batch: int
) -> tuple[int, int]:
    timed_out = batches = 0
    last = ""
    while True:
        for attempt in range(5):
            try:
                async with tenant_tx(pool, tenant_id) as conn:
                    row = await conn.fetchrow(q.TIME_OUT_BATCH, job_id, last, batch, now, TIMEOUT_DETAILS)
                    assert row is not None
                    shards, counts = list(row["shards"]), list(row["counts"])
                    await move_counts(conn, job_id, "QUEUED", "TIMED_OUT", shards, counts)
                break
            except RETRYABLE:
                if attempt == 4:
                    raise
                log.info("expiry batch of %s/%s retried after a lock conflict", tenant_id, job_id)
        assert row is not None
        timed_out += sum(counts)
        batches += 1
        if row["scanned"] < batch or row["last_device_id"] is None:
            return timed_out, batches
        last = row["last_device_id"]


async def run_jobs_expiry_tick(
    pool: asyncpg.Pool, now: datetime, *, batch_size: int = 20_000, max_jobs: int = 1000
) -> ExpiryResult:
    """One pass of expiry over all tenants. Safe to run concurrently: every move is guarded by status,
    so work done by another worker is not done again (callers still hold a lease to avoid waste)."""
    result = ExpiryResult()
    async with tx(pool) as conn:
        tenants = [r["t"] for r in await conn.fetch(q.TENANTS_WITH_EXPIRED_JOBS, now)]
    result.tenants = tenants
    for tenant_id in tenants:
        async with tenant_tx(pool, tenant_id) as conn:
            job_ids = [r["job_id"] for r in await conn.fetch(q.EXPIRED_JOBS, now, max_jobs)]
        for job_id in job_ids:
            n, batches = await _expire_job(pool, tenant_id, job_id, now, batch_size)
            result.timed_out += n
            result.timed_out_by_tenant[tenant_id] = result.timed_out_by_tenant.get(tenant_id, 0) + n
            result.batches += batches
            result.jobs += 1
            await _complete(pool, tenant_id, job_id, now, result)
    overdue = await run_in_progress_timeouts(pool, now, batch_size=batch_size)
    result.overdue_timed_out = overdue.overdue_timed_out
    result.batches += overdue.batches
    result.completed += overdue.completed
    result.completed_jobs += overdue.completed_jobs
    for tenant_id, n in overdue.timed_out_by_tenant.items():
        result.timed_out_by_tenant[tenant_id] = result.timed_out_by_tenant.get(tenant_id, 0) + n
    if result.timed_out or result.completed or result.overdue_timed_out:
        log.info(
            "jobs expiry: %d executions timed out, %d past their in-progress timeout, %d jobs completed "
            "(%d tenants, %d batches)",
            result.timed_out,
            result.overdue_timed_out,
            result.completed,
            len(tenants),
            result.batches,
        )
    return result


async def _complete(
    pool: asyncpg.Pool, tenant_id: str, job_id: str, now: datetime, result: ExpiryResult
) -> None:
    async with tenant_tx(pool, tenant_id) as conn:
        if await complete_if_done(conn, job_id, now):
            result.completed += 1
            result.completed_jobs.append((tenant_id, job_id))


async def run_in_progress_timeouts(
    pool: asyncpg.Pool, now: datetime, *, batch_size: int = 20_000
) -> ExpiryResult:
    """IN_PROGRESS executions past their timeout_at become TIMED_OUT, batch by batch, with their counts
    moved per job (jobs in id order, shards in order) in the same transaction. Safe to run concurrently,
    and against devices finishing the same executions: every move is guarded by status."""
    result = ExpiryResult()
    batch = batch_size
    async with tx(pool) as conn:
        tenants = [r["t"] for r in await conn.fetch(q.TENANTS_WITH_OVERDUE_EXECUTIONS, now)]
    for tenant_id in tenants:
        while True:
            for attempt in range(5):
                try:
                    async with tenant_tx(pool, tenant_id) as conn:
                        rows = await conn.fetch(q.TIME_OUT_OVERDUE_BATCH, now, batch, OVERDUE_DETAILS)
                        completed = []
                        for row in rows:
                            shards, counts = list(row["shards"]), list(row["counts"])
                            await move_counts(conn, row["job_id"], "IN_PROGRESS", "TIMED_OUT", shards, counts)
                        # In the batch's own transaction (executions, then counters, then the job: the lock
                        # order of a device's move), so a crash cannot leave a job with nothing active behind.
                        for row in rows:
                            if await complete_if_done(conn, row["job_id"], now):
                                completed.append((tenant_id, row["job_id"]))
                    break
                except RETRYABLE:
                    if attempt == 4:
                        raise
                    log.info("in-progress timeout batch of %s retried after a lock conflict", tenant_id)
            moved = sum(sum(r["counts"]) for r in rows)
            result.overdue_timed_out += moved
            result.timed_out_by_tenant[tenant_id] = result.timed_out_by_tenant.get(tenant_id, 0) + moved
            result.batches += 1
            result.completed += len(completed)
            result.completed_jobs += completed
            if moved < batch:
                break
    return result

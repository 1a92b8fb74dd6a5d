"""The jobs tick, tenant by tenant under RLS, in bounded batches:
- sweeps: the QUEUED executions of running jobs past expires_at become TIMED_OUT, and those of canceled jobs
  whose cancel did not finish its sweep become REJECTED or CANCELED, as the cancel said (a forced cancel's
  IN_PROGRESS ones too) (shared/jobs/sweep.py); each job is swept once;
- in-progress timeout: IN_PROGRESS executions past their timeout_at (claim + the job's
  in_progress_timeout_minutes) become TIMED_OUT.
Every move goes through iotcloud.move_executions, which also completes the jobs left with nothing active."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from shared.infra.db import retrying_tenant_tx, tenant_tx, tx
from shared.jobs import queries as q
from shared.jobs.states import Actor, CancelMode
from shared.jobs.sweep import SWEEP_BATCH, sweep_job

log = logging.getLogger("iotcloud.jobs.expiry")


@dataclass
class ExpiryResult:
    timed_out: int = 0  # QUEUED executions of expired jobs timed out
    rejected: int = 0  # QUEUED executions of canceled jobs rejected (a DELETE's sweep finished here)
    canceled: int = 0  # executions of canceled jobs canceled (a CancelJob's sweep finished here)
    completed: int = 0
    jobs: int = 0  # jobs swept
    batches: int = 0
    tenants: list[str] = field(default_factory=list)
    timed_out_by_tenant: dict[str, int] = field(default_factory=dict)  # both kinds of timeout
    completed_jobs: list[tuple[str, str]] = field(default_factory=list)  # (tenant_id, job_id)
    overdue_timed_out: int = 0  # IN_PROGRESS executions past their in-progress timeout

    def count_timeouts(self, tenant_id: str, n: int) -> None:
        self.timed_out_by_tenant[tenant_id] = self.timed_out_by_tenant.get(tenant_id, 0) + n


async def run_jobs_expiry_tick(
    pool: asyncpg.Pool, now: datetime, *, batch_size: int = SWEEP_BATCH, max_jobs: int = 1000
) -> ExpiryResult:
    """One pass over all tenants. Safe to run concurrently: every move is guarded by status and time, so
    work done by another worker is not done again (callers still hold a lease to avoid waste)."""
    result = ExpiryResult()
    async with tx(pool) as conn:
        result.tenants = [r["t"] for r in await conn.fetch(q.TENANTS_TO_SWEEP, now)]
    for tenant_id in result.tenants:
        async with tenant_tx(pool, tenant_id) as conn:
            job_ids = [r["job_id"] for r in await conn.fetch(q.JOBS_TO_SWEEP, now, max_jobs)]
            canceled = {r["job_id"]: r["cancel_mode"] for r in await conn.fetch(q.CANCELED_AMONG, job_ids)}
        for job_id in job_ids:
            swept = await sweep_job(pool, tenant_id, job_id, Actor.WORKER, now, batch_size)
            if canceled.get(job_id) == CancelMode.REJECT:
                result.rejected += swept.moved
            elif job_id in canceled:
                result.canceled += swept.moved
            else:
                result.timed_out += swept.moved
                result.count_timeouts(tenant_id, swept.moved)
            result.batches += swept.batches
            result.jobs += 1
            if swept.completed:
                result.completed += 1
                result.completed_jobs.append((tenant_id, job_id))
    overdue = await run_in_progress_timeouts(pool, now, batch_size=batch_size)
    result.overdue_timed_out = overdue.overdue_timed_out
    result.batches += overdue.batches
    result.completed += overdue.completed
    result.completed_jobs += overdue.completed_jobs
    for tenant_id, n in overdue.timed_out_by_tenant.items():
        result.count_timeouts(tenant_id, n)
    if result.timed_out or result.rejected or result.canceled or result.completed or result.overdue_timed_out:
        log.info(
            "jobs expiry: %d executions timed out, %d past their in-progress timeout, %d rejected, "
            "%d canceled, %d jobs completed (%d tenants, %d batches)",
            result.timed_out,
            result.overdue_timed_out,
            result.rejected,
            result.canceled,
            result.completed,
            len(result.tenants),
            result.batches,
        )
    return result


async def run_in_progress_timeouts(
    pool: asyncpg.Pool, now: datetime, *, batch_size: int = SWEEP_BATCH
) -> ExpiryResult:
    """IN_PROGRESS executions past their timeout_at become TIMED_OUT, batch by batch, each batch one
    transaction (counters, history and completion in it). Safe to run concurrently, and against devices
    finishing the same executions: every move is guarded by status and deadline."""
    result = ExpiryResult()
    async with tx(pool) as conn:
        tenants = [r["t"] for r in await conn.fetch(q.TENANTS_WITH_OVERDUE_EXECUTIONS, now)]

    async def one_batch(conn: asyncpg.Connection) -> asyncpg.Record:
        row = await conn.fetchrow(q.TIME_OUT_OVERDUE, now, batch_size)
        assert row is not None
        return row

    for tenant_id in tenants:
        while True:
            row = await retrying_tenant_tx(pool, tenant_id, one_batch)
            moved = int(row["moved"])
            result.overdue_timed_out += moved
            result.count_timeouts(tenant_id, moved)
            result.batches += 1
            result.completed += len(row["completed_jobs"])
            result.completed_jobs += [(tenant_id, job_id) for job_id in row["completed_jobs"]]
            if moved < batch_size:
                break
    return result

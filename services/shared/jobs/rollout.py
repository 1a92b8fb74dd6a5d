"""The rollout tick, tenant by tenant under RLS: scheduled jobs start, jobs whose failures met an abort
criterion are canceled, schedules whose end has come apply their end behavior, and running rollouts reach
their next devices. Set-based: one statement each per tenant (the release is one UPDATE of the job rows,
whatever the rate); what follows a cancel (its sweep) and a stopped rollout (canceling what it never reached)
runs in bounded batches through the move primitive. Safe to run concurrently (each step is guarded by the
job's status and the released count it was decided from); the worker still holds a lock per tick."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from shared.infra.db import retrying_tenant_tx, tenant_tx, tx
from shared.jobs import queries as q
from shared.jobs.configs import RolloutConfig
from shared.jobs.rollout_plan import RolloutState, plan_release
from shared.jobs.states import Actor
from shared.jobs.sweep import SWEEP_BATCH, sweep_job

log = logging.getLogger("iotcloud.jobs.rollout")


@dataclass
class RolloutResult:
    started: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    reached: int = 0  # devices reached by this tick's releases
    stopped: int = 0  # executions never reached, canceled by stopped rollouts
    canceled: int = 0  # executions canceled by the sweeps of aborts and schedule ends
    batches: int = 0


async def _decide(conn: asyncpg.Connection, now: datetime, result: RolloutResult) -> list[str]:
    """One tenant's set-based steps, in its transaction. Returns the jobs canceled (to sweep)."""
    result.started += [r["job_id"] for r in await conn.fetch(q.START_SCHEDULED, now)]
    aborted = [r["job_id"] for r in await conn.fetch(q.ABORT_JOBS, now)]
    ended = await conn.fetch(q.END_SCHEDULES, now)
    result.aborted += aborted
    result.ended += [r["job_id"] for r in ended]
    rows = await conn.fetch(q.ROLLOUTS_TO_RELEASE)
    plans: list[tuple[str, RolloutState, RolloutState]] = []
    for row in rows:
        config = RolloutConfig.model_validate(row["rollout_config"]) if row["rollout_config"] else None
        before = RolloutState.from_row(row)
        after = plan_release(config, list(row["windows"]), before, now)
        if after != before:
            plans.append((row["job_id"], before, after))
    if plans:
        released = await conn.fetch(
            q.RELEASE,
            [j for j, _, _ in plans],
            [b.released_upto for _, b, _ in plans],
            [a.released_upto for _, _, a in plans],
            [a.rate for _, _, a in plans],
            [a.next_step for _, _, a in plans],
            [a.window_at for _, _, a in plans],
            [a.window_count for _, _, a in plans],
        )
        result.reached += sum(int(r["reached"]) for r in released)
    return aborted + [r["job_id"] for r in ended if r["end_behavior"] in ("CANCEL", "FORCE_CANCEL")]


async def _stop(
    pool: asyncpg.Pool, tenant_id: str, job_id: str, now: datetime, batch: int
) -> tuple[int, int]:
    after, moved, batches = "", 0, 0
    while True:

        async def one(conn: asyncpg.Connection, after: str = after) -> Any:
            return await conn.fetchrow(q.STOP_ROLLOUT, now, job_id, after, batch)

        row = await retrying_tenant_tx(pool, tenant_id, one)
        moved += int(row["moved"])
        batches += 1
        if row["done"]:
            return moved, batches
        after = row["last_device_id"]


async def run_rollout_tick(
    pool: asyncpg.Pool, now: datetime, *, batch_size: int = SWEEP_BATCH
) -> RolloutResult:
    result = RolloutResult()
    async with tx(pool) as conn:
        tenants = [r["t"] for r in await conn.fetch(q.TENANTS_WITH_ROLLOUT_WORK)]
    for tenant_id in tenants:
        async with tenant_tx(pool, tenant_id) as conn:
            canceled = await _decide(conn, now, result)
            stopping = [r["job_id"] for r in await conn.fetch(q.ROLLOUTS_STOPPING)]
        for job_id in canceled:
            swept = await sweep_job(pool, tenant_id, job_id, Actor.WORKER, now, batch_size)
            result.canceled += swept.moved
            result.batches += swept.batches
        for job_id in stopping:
            moved, batches = await _stop(pool, tenant_id, job_id, now, batch_size)
            result.stopped += moved
            result.batches += batches
    if result.started or result.aborted or result.ended or result.reached or result.stopped:
        log.info(
            "rollouts: %d started, %d aborted, %d schedules ended, %d devices reached, %d never reached "
            "canceled, %d canceled by sweeps",
            len(result.started),
            len(result.aborted),
            len(result.ended),
            result.reached,
            result.stopped,
            result.canceled,
        )
    return result

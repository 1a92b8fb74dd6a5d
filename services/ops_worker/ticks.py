"""Named background ticks run by the worker loop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.jobs import queries as q
from shared.jobs.deletion import finish_deletions
from shared.jobs.expiry import ExpiryResult
from shared.jobs.expiry import run_jobs_expiry_tick as _expire
from shared.jobs.rollout import run_rollout_tick as _roll_out
from shared.jobs.states import ExecutionStatus
from shared.retention import run_retention_tick as _purge

log = logging.getLogger("iotcloud.worker")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Tick:
    name: str
    interval: float
    # advisory lock key: one worker at a time runs this tick, others skip it
    lock_key: int
    run: Callable[[asyncpg.Pool, datetime], Awaitable[Any]]


@dataclass
class TickReport:
    """What a tick's run tells the metrics (iotcloud_tick_rows_moved, iotcloud_tick_backlog)."""

    moved: dict[str, int] = field(default_factory=dict)  # target status -> executions moved
    backlog: dict[str, int] = field(default_factory=dict)  # kind -> work still due after the run
    result: Any = None


async def run_jobs_expiry_tick(pool: asyncpg.Pool, now: datetime | None = None) -> TickReport:
    """QUEUED executions of expired jobs -> TIMED_OUT; finished jobs -> COMPLETED; then the deletions of
    jobs that their request did not finish (shared/jobs/deletion.py); then what is still due."""
    now = now or datetime.now(UTC)
    result: ExpiryResult = await _expire(pool, now)
    await finish_deletions(pool, now)
    row = await pool.fetchrow(q.JOBS_TICK_BACKLOG, now)
    assert row is not None
    return TickReport(
        moved={
            ExecutionStatus.TIMED_OUT: result.timed_out + result.overdue_timed_out,
            ExecutionStatus.REJECTED: result.rejected,
            ExecutionStatus.CANCELED: result.canceled,
        },
        backlog={"jobs_to_sweep": row["jobs_to_sweep"], "overdue_executions": row["overdue_executions"]},
        result=result,
    )


async def run_retention_tick(pool: asyncpg.Pool, now: datetime | None = None) -> Any:
    """History and finished jobs past their tenant's retention are purged, batch by batch."""
    return await _purge(pool, now or datetime.now(UTC))


async def run_rollout_tick(pool: asyncpg.Pool, now: datetime | None = None) -> Any:
    """Scheduled jobs start, abort criteria cancel, schedules end, rollouts reach their next devices."""
    return await _roll_out(pool, now or datetime.now(UTC))


def default_ticks(
    jobs_tick_seconds: float, rollout_tick_seconds: float = 5.0, retention_tick_seconds: float = 3600.0
) -> list[Tick]:
    return [
        Tick("jobs_expiry", jobs_tick_seconds, 0x10_7ADE, run_jobs_expiry_tick),
        Tick("rollouts", rollout_tick_seconds, 0x10_7ADF, run_rollout_tick),
        Tick("retention", retention_tick_seconds, 0x10_7AE0, run_retention_tick),
    ]

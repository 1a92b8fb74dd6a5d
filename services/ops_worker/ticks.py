"""Named background ticks run by the worker loop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.jobs.expiry import run_jobs_expiry_tick as _expire
from shared.jobs.rollout import run_rollout_tick as _roll_out

log = logging.getLogger("iotcloud.worker")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Tick:
    name: str
    interval: float
    # advisory lock key: one worker at a time runs this tick, others skip it
    lock_key: int
    run: Callable[[asyncpg.Pool, datetime], Awaitable[Any]]


async def run_jobs_expiry_tick(pool: asyncpg.Pool, now: datetime | None = None) -> Any:
    """QUEUED executions of expired jobs -> TIMED_OUT; finished jobs -> COMPLETED."""
    return await _expire(pool, now or datetime.now(UTC))


async def run_rollout_tick(pool: asyncpg.Pool, now: datetime | None = None) -> Any:
    """Scheduled jobs start, abort criteria cancel, schedules end, rollouts reach their next devices."""
    return await _roll_out(pool, now or datetime.now(UTC))


def default_ticks(jobs_tick_seconds: float, rollout_tick_seconds: float = 5.0) -> list[Tick]:
    return [
        Tick("jobs_expiry", jobs_tick_seconds, 0x10_7ADE, run_jobs_expiry_tick),
        Tick("rollouts", rollout_tick_seconds, 0x10_7ADF, run_rollout_tick),
    ]

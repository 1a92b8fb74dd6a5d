"""Named background ticks run by the worker loop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.jobs.deletion import finish_deletions
from shared.jobs.expiry import run_jobs_expiry_tick as _expire

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
    """QUEUED executions of expired jobs -> TIMED_OUT; finished jobs -> COMPLETED; then the deletions of
    jobs that their request did not finish (shared/jobs/deletion.py). Returns the expiry's result."""
    now = now or datetime.now(UTC)
    result = await _expire(pool, now)
    await finish_deletions(pool, now)
    return result


def default_ticks(jobs_tick_seconds: float) -> list[Tick]:
    return [Tick("jobs_expiry", jobs_tick_seconds, 0x10_7ADE, run_jobs_expiry_tick)]

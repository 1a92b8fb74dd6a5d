"""Named background ticks run by the worker loop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.jobs.expiry import run_jobs_expiry_tick as _expire
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


async def run_jobs_expiry_tick(pool: asyncpg.Pool, now: datetime | None = None) -> Any:
    """QUEUED executions of expired jobs -> TIMED_OUT; finished jobs -> COMPLETED."""
    return await _expire(pool, now or datetime.now(UTC))


async def run_retention_tick(pool: asyncpg.Pool, now: datetime | None = None) -> Any:
    """History and finished jobs past their tenant's retention are purged, batch by batch."""
    return await _purge(pool, now or datetime.now(UTC))


def default_ticks(jobs_tick_seconds: float, retention_tick_seconds: float = 3600.0) -> list[Tick]:
    return [
        Tick("jobs_expiry", jobs_tick_seconds, 0x10_7ADE, run_jobs_expiry_tick),
        Tick("retention", retention_tick_seconds, 0x10_7ADF, run_retention_tick),
    ]

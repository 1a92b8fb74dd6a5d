"""ops_worker: an asyncio loop of named ticks. Each tick runs under a PostgreSQL advisory lock, so several
workers can run side by side and a tick's work is done by one of them at a time."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import asyncpg

from ops_worker.ticks import Clock, Tick, TickReport, default_ticks
from shared.infra.config import Settings
from shared.infra.db import DB_ERRORS, create_pool
from shared.observability import metrics
from shared.observability.exporter import EXPORTER

log = logging.getLogger("iotcloud.worker")


async def run_tick_locked(pool: asyncpg.Pool, tick: Tick, now: datetime) -> bool:
    """Runs `tick` if this worker gets its advisory lock; False when another worker holds it. The run is
    counted, timed and its report (rows moved, backlog) recorded in the tick metrics."""
    async with pool.acquire() as conn:
        got = await conn.fetchval("SELECT pg_try_advisory_lock($1)", tick.lock_key)
        if not got:
            metrics.TICK_RUNS.labels(tick.name, "skipped").inc()
            return False
        started = time.perf_counter()
        try:
            result = await tick.run(pool, now)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", tick.lock_key)
    metrics.TICK_RUNS.labels(tick.name, "ran").inc()
    metrics.TICK_DURATION.labels(tick.name).observe(time.perf_counter() - started)
    metrics.TICK_LAST_SUCCESS.labels(tick.name).set(time.time())
    if isinstance(result, TickReport):
        for status, n in result.moved.items():
            metrics.TICK_ROWS_MOVED.labels(tick.name, status).inc(n)
        metrics.TICK_LAST_ROWS_MOVED.labels(tick.name).set(sum(result.moved.values()))
        for kind, n in result.backlog.items():
            metrics.TICK_BACKLOG.labels(tick.name, kind).set(n)
    return True


class Worker:
    def __init__(self, pool: asyncpg.Pool, ticks: list[Tick], clock: Clock | None = None) -> None:
        self.pool = pool
        self.ticks = ticks
        self.clock = clock or (lambda: datetime.now(UTC))
        self._stop = asyncio.Event()
        self.runs: dict[str, int] = {t.name: 0 for t in ticks}

    def stop(self) -> None:
        self._stop.set()

    async def _loop(self, tick: Tick) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                if await run_tick_locked(self.pool, tick, self.clock()):
                    self.runs[tick.name] += 1
            except DB_ERRORS as exc:
                metrics.TICK_RUNS.labels(tick.name, "failed").inc()
                log.warning("tick %s failed: %s: %s (will retry)", tick.name, type(exc).__name__, exc)
            elapsed = time.monotonic() - started
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=max(0.05, tick.interval - elapsed))
            except TimeoutError:
                pass

    async def run(self) -> None:
        for tick in self.ticks:
            metrics.TICK_INTERVAL.labels(tick.name).set(tick.interval)
        log.info("worker started: %s", ", ".join(f"{t.name} every {t.interval:g}s" for t in self.ticks))
        await asyncio.gather(*(self._loop(t) for t in self.ticks))
        log.info("worker stopped")


async def serve(settings: Settings, dsn: str, stop: asyncio.Event | None = None) -> None:
    pool = await create_pool(dsn, min_size=0, max_size=4)
    EXPORTER.watch_pool("worker", pool, jobs=True)
    ticks = default_ticks(
        settings.jobs_tick_seconds, settings.rollout_tick_seconds, settings.retention_tick_seconds
    )
    worker = Worker(pool, ticks)
    task = asyncio.create_task(worker.run())
    try:
        if stop is not None:
            await stop.wait()
            worker.stop()
        await task
    finally:
        worker.stop()
        EXPORTER.forget_pool("worker", pool)
        await pool.close()

"""B4 expiry: one expiry tick timing out a job's QUEUED executions, against one raw UPDATE of the same
rows; meanwhile devices keep polling the device API and their p99 latency is recorded."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench.context import Ctx
from bench.data import device_token, seed_job, truncate_jobs
from bench.env import Service
from bench.stats import Measure, Result, ratio
from shared.infra.db import connect, create_pool
from shared.jobs.expiry import run_jobs_expiry_tick
from simulator.stats import percentile

FLOOR = """
UPDATE job_executions SET status = 'TIMED_OUT', execution_number = execution_number + 1, last_updated_at = $3
 WHERE tenant_id = $1 AND job_id = $2 AND status = 'QUEUED'
"""
POLL_DEVICES = 1000
POLLERS = 8


class Poller(threading.Thread):
    """Devices polling in a thread of their own (own event loop) until stopped; keeps latencies."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        tokens = [device_token("bench", i) for i in range(1, POLL_DEVICES + 1)]
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:

            async def one(k: int) -> None:
                i = k
                while not self.stop.is_set():
                    i = (i + POLLERS) % len(tokens)
                    t0 = time.perf_counter()
                    r = await client.get("/device/v1/jobs/pending", headers={"X-Provision-Token": tokens[i]})
                    self.latencies.append(time.perf_counter() - t0)
                    self.errors += r.status_code != 200

            await asyncio.gather(*(one(k) for k in range(POLLERS)))


async def run(ctx: Ctx, device: Service) -> list[Result]:
    n = ctx.sizes.expiry
    owner = await connect(ctx.db.owner_url)
    pool = await create_pool(ctx.db.app_url, min_size=2, max_size=4)
    ours, floor = Measure("expiry tick", "s"), Measure("one UPDATE", "s")
    p99s = Measure("poll p99 during tick", "ms")
    p99_floor = Measure("poll p99 during the raw UPDATE", "ms")
    try:
        for rep in range(ctx.sizes.reps):
            await truncate_jobs(owner)
            await seed_job(owner, "bench", "b4-poll", POLL_DEVICES)  # what the polling devices see
            past = datetime.now(UTC) - timedelta(minutes=1)
            await seed_job(owner, "bench", f"b4-tick-{rep}", n, prefix="x", expires_at=past)
            await seed_job(owner, "bench", f"b4-floor-{rep}", n, prefix="y")  # not expired: the tick skips it
            await owner.execute("ANALYZE job_executions")
            poller = Poller(device.url)
            poller.start()
            await asyncio.sleep(0.5)
            before = len(poller.latencies)
            t0 = time.perf_counter()
            result = await run_jobs_expiry_tick(pool, datetime.now(UTC))
            t = time.perf_counter() - t0
            middle = len(poller.latencies)
            during = sorted(poller.latencies[before:middle])
            assert result.timed_out == n and result.completed == 1, result
            ours.values.append(t)
            p99s.values.append(percentile(during, 99) * 1000)

            # the floor runs under the same polling load
            tf0 = time.perf_counter()
            tag = await owner.execute(FLOOR, "bench", f"b4-floor-{rep}", datetime.now(UTC))
            floor.values.append(time.perf_counter() - tf0)
            poller.stop.set()
            poller.join(30)
            p99_floor.values.append(percentile(sorted(poller.latencies[middle:]), 99) * 1000)
            assert tag == f"UPDATE {n}", tag
            ctx.log(
                f"B4 {n:,} rep {rep + 1}: tick {t:.2f}s ({result.batches} batches) "
                f"floor {floor.values[-1]:.2f}s; "
                f"{len(during)} polls during the tick, p99 {p99s.values[-1]:.1f} ms "
                f"(during the floor {p99_floor.values[-1]:.1f} ms), errors {poller.errors}"
            )
        await truncate_jobs(owner)
    finally:
        await pool.close()
        await owner.close()
    r = ratio(ours, floor)
    p99_ok = p99s.median < 100
    return [
        Result(
            f"B4 expiry {n:,}",
            ours,
            floor,
            r,
            "<= 1.5x floor",
            r <= 1.5,
            f"both under {POLLERS} polling devices; the tick also writes {n:,} history events",
        ),
        Result(
            "B4 poll p99 during tick",
            p99s,
            p99_floor,
            ratio(p99s, p99_floor),
            "< 100 ms",
            p99_ok,
            f"{POLLERS} pollers; floor column: p99 of the same polls during the raw UPDATE",
        ),
    ]

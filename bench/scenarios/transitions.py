"""B3 transitions: executions of one job claimed and completed by the fleet simulator at concurrency 64,
against raw guarded UPDATE ... WHERE status = ... RETURNING statements from asyncpg at the same
concurrency. Afterwards the job's counters must be exact and the job COMPLETED.

The goal's row drives each execution with the two device calls that move it, as the floor runs two UPDATEs:
start-next (claims the next pending execution) and the update that completes it (the simulator's
start-next flow). The poll flow (a poll, then the claim and the completion: three calls per execution) is
measured in the same repetitions and reported beside it."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from bench.context import Ctx
from bench.data import device_id, device_token, seed_job, truncate_jobs
from bench.env import POOL_MAX, Service
from bench.stats import Measure, Result, ratio
from shared.infra.db import connect, create_pool
from simulator.engine import Fleet, Flow, SimConfig

CONCURRENCY = 64

GUARDED = """
UPDATE job_executions
   SET status = $4, execution_number = execution_number + 1, last_updated_at = now(),
       started_at = CASE WHEN $4 = 'IN_PROGRESS' THEN now() ELSE started_at END
 WHERE tenant_id = $1 AND job_id = $2 AND device_id = $3 AND status = $5
RETURNING execution_number
"""

CHECK = """
SELECT j.status, j.execution_count,
       (SELECT sum(succeeded) FROM job_counters c
         WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id) AS ok,
       (SELECT sum(queued + in_progress + failed + rejected + timed_out) FROM job_counters c
         WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id) AS other,
       (SELECT count(*) FROM job_executions e WHERE e.tenant_id = j.tenant_id AND e.job_id = j.job_id
           AND e.status = 'SUCCEEDED') AS rows_ok
  FROM jobs j WHERE j.tenant_id = $1 AND j.job_id = $2
"""


async def _floor(pool: asyncpg.Pool, job: str, n: int) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(1, n + 1):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            dev = device_id("dev", queue.get_nowait())
            async with pool.acquire() as conn:
                assert await conn.fetchval(GUARDED, "bench", job, dev, "IN_PROGRESS", "QUEUED") is not None
            async with pool.acquire() as conn:
                assert await conn.fetchval(GUARDED, "bench", job, dev, "SUCCEEDED", "IN_PROGRESS") is not None

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - t0


async def _ours(
    ctx: Ctx, owner: asyncpg.Connection, device: Service, flow: Flow, rep: int
) -> tuple[float, bool]:
    """One repetition of the simulator in `flow`: executions/s, and whether the counters came out exact."""
    n = ctx.sizes.transitions
    tokens = {device_id("dev", i): device_token("bench", i) for i in range(1, n + 1)}
    job = f"b3-{flow}-{rep}"
    await seed_job(owner, "bench", job, n)
    await owner.execute("ANALYZE job_executions")
    cfg = SimConfig(
        device_url=device.url, poll_interval=3600, start_spread=0, run_seconds=0, progress_steps=0,
        success_rate=1, fail_rate=0, reject_rate=0, connections=CONCURRENCY, stop_after_finished=n,
        timeout=120, flow=flow,
    )  # fmt: skip
    t0 = time.perf_counter()
    stats = await Fleet(tokens, cfg).run(tick=0.05)
    elapsed = time.perf_counter() - t0
    row = await owner.fetchrow(CHECK, "bench", job)
    assert row is not None
    ok = row["status"] == "COMPLETED" and row["ok"] == n and row["other"] == 0 and row["rows_ok"] == n
    ctx.log(
        f"B3 rep {rep + 1} ours ({flow}): {n / elapsed:,.0f} exec/s ({2 * n / elapsed:,.0f} transitions/s, "
        f"{stats.polls} {flow} calls), job {row['status']}, counters exact: {ok}, errors {dict(stats.errors)}"
    )
    return n / elapsed, ok and stats.server_errors == 0


async def run(ctx: Ctx, device: Service) -> list[Result]:
    n = ctx.sizes.transitions
    owner = await connect(ctx.db.owner_url)
    pool = await create_pool(ctx.db.owner_url, min_size=POOL_MAX, max_size=POOL_MAX)
    ours = Measure("simulator executions/s (start-next, update)", "exec/s")
    polling = Measure("simulator executions/s (poll, claim, update)", "exec/s")
    floor = Measure("guarded UPDATEs executions/s", "exec/s")
    exact = True
    try:
        await truncate_jobs(owner)
        for rep in range(ctx.sizes.reps):
            flows: list[tuple[Flow, Measure]] = [("start-next", ours), ("poll", polling)]
            for flow, measure in flows if rep % 2 == 0 else flows[::-1]:
                rate, ok = await _ours(ctx, owner, device, flow, rep)
                measure.values.append(rate)
                exact = exact and ok
            job = f"b3-floor-{rep}"
            await seed_job(owner, "bench", job, n)
            t = await _floor(pool, job, n)
            floor.values.append(n / t)
            ctx.log(f"B3 rep {rep + 1} floor: {n / t:,.0f} exec/s")
    finally:
        await pool.close()
        await owner.close()
    r = ratio(ours, floor)
    note = (
        f"{n:,} executions x 2 transitions, concurrency {CONCURRENCY}; start-next + update per execution; "
        f"counters exact: {exact}"
    )
    poll_note = f"the same with a poll before the claim (3 calls per execution); counters exact: {exact}"
    return [
        Result("B3 transitions", ours, floor, r, ">= 0.6x floor; counters exact", r >= 0.6 and exact, note),
        Result(
            "B3 transitions, poll flow", polling, floor, ratio(polling, floor), "reported", None, poll_note
        ),
    ]

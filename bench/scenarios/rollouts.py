"""B6 rollouts: one rollout tick releasing a whole minute of a 1,000,000-a-minute rollout (every execution
of the job reached), and one rollout tick aborting the job (the abort, then the cancel's sweep moving every
QUEUED execution to CANCELED with its history), each against one raw UPDATE of the same number of rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.context import Ctx
from bench.data import seed_job, truncate_jobs
from bench.stats import Measure, Result, ratio
from shared.infra.db import connect, create_pool
from shared.jobs.rollout import run_rollout_tick

# The job as POST /customer/jobs would store it with these configs; executions ranked in fan-out order.
MAKE_ROLLOUT = """
UPDATE jobs SET ranked = execution_count, released_upto = 0,
       rollout_config = '{"maximum_per_minute": 1000000}',
       abort_config = '{"criteria_list": [{"failure_type": "FAILED", "action": "CANCEL",
                        "threshold_percentage": 50, "min_number_of_executed_things": 1}]}'
 WHERE tenant_id = $1 AND job_id = $2
"""
RANK = """
UPDATE job_executions SET rollout_rank = substr(device_id, 3)::int WHERE tenant_id = $1 AND job_id = $2
"""
# One device fails (as a device's update would leave it), so that the abort criterion is met.
ONE_FAILURE = """
WITH e AS (
    UPDATE job_executions SET status = 'FAILED', started_at = $3, execution_number = 3, last_updated_at = $3
     WHERE tenant_id = $1 AND job_id = $2 AND device_id = 'r-0000001'
    RETURNING shard
)
UPDATE job_counters c SET queued = c.queued - 1, failed = c.failed + 1
  FROM e WHERE c.tenant_id = $1 AND c.job_id = $2 AND c.shard = e.shard
"""
FLOOR_RELEASE = "UPDATE job_executions SET last_updated_at = $3 WHERE tenant_id = $1 AND job_id = $2"
FLOOR_ABORT = """
UPDATE job_executions SET status = 'CANCELED', execution_number = execution_number + 1, last_updated_at = $3
 WHERE tenant_id = $1 AND job_id = $2 AND status = 'QUEUED'
"""


async def run(ctx: Ctx) -> list[Result]:
    n = ctx.sizes.expiry
    owner = await connect(ctx.db.owner_url)
    pool = await create_pool(ctx.db.app_url, min_size=2, max_size=4)
    release, release_floor = Measure("release tick", "s"), Measure("one UPDATE", "s")
    abort, abort_floor = Measure("abort tick", "s"), Measure("one UPDATE", "s")
    try:
        for rep in range(ctx.sizes.reps):
            await truncate_jobs(owner)
            job, floor_job = f"b6-{rep}", f"b6-floor-{rep}"
            await seed_job(owner, "bench", job, n, prefix="r")
            await seed_job(owner, "bench", floor_job, n, prefix="f")
            await owner.execute(MAKE_ROLLOUT, "bench", job)
            await owner.execute(RANK, "bench", job)
            await owner.execute("VACUUM ANALYZE job_executions")
            now = datetime.now(UTC)

            t0 = time.perf_counter()
            released = await run_rollout_tick(pool, now)
            release.values.append(time.perf_counter() - t0)
            assert released.reached == n and not released.aborted, released
            t0 = time.perf_counter()
            tag = await owner.execute(FLOOR_RELEASE, "bench", floor_job, now)
            release_floor.values.append(time.perf_counter() - t0)
            assert tag == f"UPDATE {n}", tag

            await owner.execute(ONE_FAILURE, "bench", job, now)
            t0 = time.perf_counter()
            aborted = await run_rollout_tick(pool, now + timedelta(minutes=1))
            abort.values.append(time.perf_counter() - t0)
            assert aborted.aborted == [job] and aborted.canceled == n - 1, aborted
            t0 = time.perf_counter()
            tag = await owner.execute(FLOOR_ABORT, "bench", floor_job, now)
            abort_floor.values.append(time.perf_counter() - t0)
            assert tag == f"UPDATE {n}", tag
            ctx.log(
                f"B6 {n:,} rep {rep + 1}: release {release.values[-1]:.3f}s "
                f"(floor {release_floor.values[-1]:.2f}s), abort {abort.values[-1]:.2f}s "
                f"in {aborted.batches} batches (floor {abort_floor.values[-1]:.2f}s)"
            )
        await truncate_jobs(owner)
    finally:
        await pool.close()
        await owner.close()
    r_release, r_abort = ratio(release, release_floor), ratio(abort, abort_floor)
    return [
        Result(
            f"B6 rollout release {n:,}",
            release,
            release_floor,
            r_release,
            "<= 1.5x floor",
            r_release <= 1.5,
            "a minute of a 1,000,000/min rollout: one UPDATE of the job row (released_upto); the floor "
            "marks each execution",
        ),
        Result(
            f"B6 abort {n:,}",
            abort,
            abort_floor,
            r_abort,
            "<= 1.5x floor",
            r_abort <= 1.5,
            f"the abort and its sweep: {n - 1:,} QUEUED -> CANCELED with history rows and counters",
        ),
    ]

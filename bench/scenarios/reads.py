"""B5 reads at scale: GET /customer/jobs (a page of 50) and one job's detail with 1k jobs and many
executions in the database, against the same calls with few executions. The probe job has 100
executions in both, so the detail's payload is the same size; the rest are spread over the other jobs."""

from __future__ import annotations

import statistics
import time

import httpx

from bench.context import Ctx
from bench.data import admin_token, seed_tenant
from bench.env import Service
from bench.stats import Measure, Result, ratio
from shared.infra.db import connect
from shared.jobs.queries import SHARDS

JOBS = 1000
PROBE = 100
CALLS = 60

SEED_JOBS = """
INSERT INTO jobs (tenant_id, job_id, document_type, target_group_id, execution_count, created_at, updated_at)
SELECT $1, 'job-' || lpad(j::text, 5, '0'), 'bench', 'g', CASE WHEN j = 1 THEN $3::int ELSE $2::int END,
       now() - make_interval(secs => j), now()
  FROM generate_series(1, $4::int) AS j
"""
SEED_EXECS = f"""
INSERT INTO job_executions (tenant_id, job_id, device_id, status, shard, queued_at, last_updated_at)
SELECT $1, 'job-' || lpad(j::text, 5, '0'), 'x-' || lpad(i::text, 7, '0'), 'QUEUED', (i - 1) % {SHARDS},
       now(), now()
  FROM generate_series(1, $4::int) AS j
 CROSS JOIN LATERAL generate_series(1, CASE WHEN j = 1 THEN $3::int ELSE $2::int END) AS i
"""
SEED_COUNTERS = f"""
INSERT INTO job_counters (tenant_id, job_id, shard, queued)
SELECT $1, 'job-' || lpad(j::text, 5, '0'), s,
       ((CASE WHEN j = 1 THEN $3::int ELSE $2::int END) - s + {SHARDS} - 1) / {SHARDS}
  FROM generate_series(1, $4::int) AS j CROSS JOIN generate_series(0, {SHARDS} - 1) AS s
"""


async def _seed(ctx: Ctx, tenant: str, executions: int) -> None:
    per_job = (executions - PROBE) // (JOBS - 1)
    owner = await connect(ctx.db.owner_url)
    try:
        await seed_tenant(owner, tenant)
        for sql in (SEED_JOBS, SEED_EXECS, SEED_COUNTERS):
            await owner.execute(sql, tenant, per_job, PROBE, JOBS)
        await owner.execute("VACUUM ANALYZE jobs, job_executions, job_counters")
    finally:
        await owner.close()


async def _latency(api: httpx.AsyncClient, path: str) -> float:
    """Median latency (ms) of CALLS sequential requests."""
    out = []
    for _ in range(CALLS):
        t0 = time.perf_counter()
        r = await api.get(path)
        out.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    return statistics.median(out) * 1000


async def run(ctx: Ctx, ui: Service) -> list[Result]:
    big, small = ctx.sizes.reads_big, ctx.sizes.reads_small
    ctx.log(f"B5: seeding {JOBS} jobs with {big:,} and with {small:,} executions")
    await _seed(ctx, "reads-big", big)
    await _seed(ctx, "reads-small", small)
    paths = {"list": "/customer/jobs?limit=50", "detail": "/customer/jobs/job-00001"}
    m = {(k, t): Measure(f"{k} ({t})", "ms") for k in paths for t in ("big", "small")}
    clients = {}
    for t, tenant in (("big", "reads-big"), ("small", "reads-small")):
        headers = {"Authorization": f"Bearer {await admin_token(ctx.db.app_url, tenant)}"}
        clients[t] = httpx.AsyncClient(base_url=ui.url, headers=headers, timeout=60)
    try:
        for t in ("big", "small"):  # warm-up
            for p in paths.values():
                await clients[t].get(p)
        for rep in range(ctx.sizes.reps):
            for k, p in paths.items():
                for t in ("big", "small"):
                    m[(k, t)].values.append(await _latency(clients[t], p))
            ctx.log(
                f"B5 rep {rep + 1}: " + ", ".join(f"{k}/{t} {v.values[-1]:.1f} ms" for (k, t), v in m.items())
            )
    finally:
        for c in clients.values():
            await c.aclose()
    out = []
    for k, label in (("list", "GET /customer/jobs (50)"), ("detail", "GET /customer/jobs/{id}")):
        r = ratio(m[(k, "big")], m[(k, "small")])
        note = f"{JOBS} jobs; {big:,} vs {small:,} executions; median of {CALLS} calls per rep"
        out.append(
            Result(f"B5 {label}", m[(k, "big")], m[(k, "small")], r, "<= 2x (floor = small DB)", r <= 2, note)
        )
    return out

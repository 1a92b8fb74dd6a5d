"""B2 device poll: GET /device/v1/jobs/pending over many devices' tokens at 64 connections, against a
bare ASGI + asyncpg endpoint doing the same indexed lookups on a pool of the same size."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench.context import Ctx
from bench.data import device_token, seed_job
from bench.env import Service
from bench.load import LoadResult, run_python, run_wrk
from bench.stats import Measure, Result, ratio
from shared.infra.db import connect

CONNECTIONS = 64
PATH = "/device/v1/jobs/pending"


async def _load(ctx: Ctx, url: str, tokens_file: Path, tokens: list[str], seconds: float) -> LoadResult:
    if ctx.wrk:
        return run_wrk(ctx.wrk, url + PATH, tokens_file, CONNECTIONS, seconds)
    return await run_python(url + PATH, tokens, CONNECTIONS, seconds)


async def run(ctx: Ctx, device: Service, floor_server: Service) -> list[Result]:
    s = ctx.sizes
    owner = await connect(ctx.db.owner_url)
    try:
        await seed_job(owner, "bench", "b2-poll", s.poll_tokens)
        await owner.execute("ANALYZE job_executions, jobs, device_state")
    finally:
        await owner.close()
    tokens = [device_token("bench", i) for i in range(1, s.poll_tokens + 1)]
    tokens_file = Path(tempfile.mkdtemp(prefix="iotcloud-bench-")) / "tokens.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")

    rps_ours, rps_floor = Measure("req/s", "req/s"), Measure("req/s", "req/s")
    p99_ours, p99_floor = Measure("p99", "ms"), Measure("p99", "ms")
    errors = 0
    tool = ""
    for server in (device, floor_server):  # warm-up: pools filled, last_seen_at refreshed once
        await _load(ctx, server.url, tokens_file, tokens, 1 if ctx.quick else 3)
    for rep in range(s.reps):
        for server, rps, p99 in ((device, rps_ours, p99_ours), (floor_server, rps_floor, p99_floor)):
            res = await _load(ctx, server.url, tokens_file, tokens, s.poll_seconds)
            rps.values.append(res.rps)
            p99.values.append(res.p99_ms)
            errors += res.errors
            tool = res.tool
            ctx.log(
                f"B2 rep {rep + 1} {server.kind}: {res.rps:,.0f} req/s p50 {res.p50_ms:.1f} ms "
                f"p99 {res.p99_ms:.1f} ms errors {res.errors}"
            )
    shutil.rmtree(tokens_file.parent, ignore_errors=True)
    r_rps = ratio(rps_ours, rps_floor)
    r_p99 = ratio(p99_ours, p99_floor)
    note = f"{tool}, {CONNECTIONS} connections, {s.poll_seconds:g}s x {s.reps}, {s.poll_tokens:,} tokens"
    if errors:
        note += f", {errors} errors"
    return [
        Result(
            "B2 poll throughput",
            rps_ours,
            rps_floor,
            r_rps,
            ">= 0.7x floor",
            r_rps >= 0.7 and not errors,
            note,
        ),
        Result("B2 poll p99", p99_ours, p99_floor, r_p99, "<= 1.5x floor", r_p99 <= 1.5 and not errors, note),
    ]

"""`python -m bench.scale [--sizes 100000,300000,1000000]`: how the cost of a fan-out, an expiry, a poll and a
transition grows with the fleet, on a fresh embedded PostgreSQL, through the real code below HTTP (the domain
functions and the SQL the APIs call). Writes bench/results/scale.json and the plot docs/scale-growth.svg
(drawn here, no plotting library), which docs/scale.md shows."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.data import device_token, seed_devices, seed_tenant, truncate_jobs
from bench.env import embedded_postgres
from shared.auth import token_hash
from shared.infra.db import connect, create_pool, tenant_tx
from shared.jobs import queries as q
from shared.jobs.expiry import run_jobs_expiry_tick
from shared.jobs.service import create_job

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = 300  # polls and transitions measured per size
TENANT = "scale"


async def _one_size(pool: Any, owner: Any, n: int) -> dict[str, float]:
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    async with tenant_tx(pool, TENANT) as conn:
        await create_job(
            conn,
            job_id=f"fleet-{n}",
            document_type="fw",
            document_params={},
            target_device_id=None,
            target_group_id=None,
            target_all=True,
            expires_in_hours=1,
            created_by="bench",
            now=now,
        )
    fan_out = time.perf_counter() - t0
    await owner.execute("VACUUM ANALYZE job_executions")
    picks = random.Random(n).sample(range(1, n + 1), SAMPLES)
    polls = []
    for i in picks:
        p0 = time.perf_counter()
        await pool.fetch(q.DEVICE_POLLS, [token_hash(device_token(TENANT, i))], [now], 3600, 100)
        polls.append(time.perf_counter() - p0)
    moves = []
    for i in picks:
        m0 = time.perf_counter()
        await pool.fetch(q.DEVICE_MOVES, 3600, now, [token_hash(device_token(TENANT, i))], [f"fleet-{n}"],
                         ["IN_PROGRESS"], [None], [None], [None])  # fmt: skip
        moves.append(time.perf_counter() - m0)
    t0 = time.perf_counter()
    result = await run_jobs_expiry_tick(pool, now + timedelta(hours=2))
    expiry = time.perf_counter() - t0
    assert result.timed_out == n - SAMPLES, result
    await truncate_jobs(owner)
    return {
        "devices": n,
        "fan_out_s": fan_out,
        "expiry_s": expiry,
        "poll_ms": statistics.median(polls) * 1000,
        "transition_ms": statistics.median(moves) * 1000,
    }


def _svg(rows: list[dict[str, float]]) -> str:
    """Each cost relative to its value at the smallest fleet, against the fleet size (both axes linear)."""
    series = [("fan-out", "fan_out_s", "#1c7ed6"), ("expiry", "expiry_s", "#e8590c"),
              ("poll", "poll_ms", "#2f9e44"), ("transition", "transition_ms", "#9c36b5")]  # fmt: skip
    w, h, pad = 640, 360, 50
    xmax = max(r["devices"] for r in rows)
    ymax = max(r[k] / rows[0][k] for _, k, _ in series for r in rows) * 1.1
    x = lambda v: pad + (w - 2 * pad) * v / xmax  # noqa: E731
    y = lambda v: h - pad - (h - 2 * pad) * v / ymax  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
           'font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>',
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="black"/>',
           f'<text x="{w / 2}" y="{h - 12}" text-anchor="middle">devices in the fleet (max {xmax:,})</text>',
           f'<text x="14" y="{h / 2}" transform="rotate(-90 14 {h / 2})" text-anchor="middle">'
           f"cost / cost at {rows[0]['devices']:,}</text>"]  # fmt: skip
    for tick in range(0, int(ymax) + 1, max(1, int(ymax) // 5)):
        out.append(f'<text x="{pad - 6}" y="{y(tick) + 4}" text-anchor="end">{tick}</text>')
    for i, (label, key, color) in enumerate(series):
        pts = " ".join(f"{x(r['devices']):.1f},{y(r[key] / rows[0][key]):.1f}" for r in rows)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{pad + 10}" y="{pad + 16 * i}" fill="{color}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


async def main(sizes: list[int]) -> None:
    with embedded_postgres() as db:
        owner = await connect(db.owner_url)
        pool = await create_pool(db.app_url, min_size=2, max_size=4)
        try:
            await seed_tenant(owner, TENANT)
            rows, have = [], 0
            for n in sorted(sizes):
                await seed_devices(owner, TENANT, n, start=have + 1)
                have = n
                await owner.execute("VACUUM ANALYZE device_state")
                rows.append(await _one_size(pool, owner, n))
                print(json.dumps(rows[-1]), flush=True)
        finally:
            await pool.close()
            await owner.close()
    meta = {
        "postgresql": db.version,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "samples": SAMPLES,
    }
    (ROOT / "bench" / "results" / "scale.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n"
    )
    (ROOT / "docs" / "scale-growth.svg").write_text(_svg(rows))


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")]))


if __name__ == "__main__":
    cli()

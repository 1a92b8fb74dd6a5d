"""B1 fan-out: POST /customer/jobs to a group (and, in the full run, to a whole 1M-device fleet) against
one INSERT ... SELECT of the same rows, and asyncpg executemany of them for contrast."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from bench.context import Ctx
from bench.data import admin_token, seed_devices, seed_group, seed_tenant, truncate_jobs
from bench.env import Service
from bench.stats import Measure, Result, ratio, timed
from shared.infra.db import connect
from shared.jobs.queries import SHARDS

FLOOR_GROUP = f"""
INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, shard, queued_at,
                            last_updated_at)
SELECT m.tenant_id, $2, m.device_id, 'QUEUED', 1, ((row_number() OVER ()) - 1) % {SHARDS}, $4, $4
  FROM device_group_members m JOIN device_state d ON d.tenant_id = m.tenant_id AND d.device_id = m.device_id
 WHERE m.tenant_id = $1 AND m.group_id = $3 AND d.status = 'ACTIVE'
"""
FLOOR_ALL = f"""
INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, shard, queued_at,
                            last_updated_at)
SELECT d.tenant_id, $2, d.device_id, 'QUEUED', 1, ((row_number() OVER ()) - 1) % {SHARDS}, $3, $3
  FROM device_state d WHERE d.tenant_id = $1 AND d.status = 'ACTIVE'
"""
TARGETS_GROUP = """
SELECT m.device_id FROM device_group_members m JOIN device_state d
    ON d.tenant_id = m.tenant_id AND d.device_id = m.device_id
 WHERE m.tenant_id = $1 AND m.group_id = $2 AND d.status = 'ACTIVE'
"""
TARGETS_ALL = "SELECT device_id FROM device_state WHERE tenant_id = $1 AND status = 'ACTIVE'"
INSERT_ROW = """
INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, shard, queued_at,
                            last_updated_at)
VALUES ($1, $2, $3, 'QUEUED', 1, $4, $5, $5)
"""
JOB_ROW = """
INSERT INTO jobs (tenant_id, job_id, document_type, target_group_id, target_all, created_at, updated_at)
VALUES ($1, $2, 'bench', $3, $4, now(), now())
"""


async def _insert_many(owner: asyncpg.Connection, rows: list[tuple[object, ...]]) -> None:
    async with owner.transaction():
        await owner.executemany(INSERT_ROW, rows)


async def _case(
    ctx: Ctx, owner: asyncpg.Connection, api: httpx.AsyncClient, tenant: str, group: str | None, n: int
) -> Result:
    ours = Measure("POST /customer/jobs", "s")
    floor = Measure("INSERT ... SELECT", "s")
    many = Measure("executemany", "s")
    body = {"document_type": "bench", **({"target_group_id": group} if group else {"target_all": True})}
    for rep in range(ctx.sizes.reps):
        await truncate_jobs(owner)
        t, r = await timed(lambda: api.post("/customer/jobs", json=body))
        assert r.status_code == 201 and r.json()["execution_count"] == n, r.text
        ours.values.append(t)

        await truncate_jobs(owner)
        job = f"floor-{uuid.uuid4().hex[:8]}"
        await owner.execute(JOB_ROW, tenant, job, group, group is None)
        now = datetime.now(UTC)
        if group:
            t, tag = await timed(owner.execute, FLOOR_GROUP, tenant, job, group, now)
        else:
            t, tag = await timed(owner.execute, FLOOR_ALL, tenant, job, now)
        assert tag.endswith(f" {n}"), tag
        floor.values.append(t)

        await truncate_jobs(owner)
        job = f"many-{uuid.uuid4().hex[:8]}"
        await owner.execute(JOB_ROW, tenant, job, group, group is None)
        ids = [
            r["device_id"]
            for r in await (
                owner.fetch(TARGETS_GROUP, tenant, group) if group else owner.fetch(TARGETS_ALL, tenant)
            )
        ]
        rows = [(tenant, job, d, i % SHARDS, now) for i, d in enumerate(ids)]

        t, _ = await timed(_insert_many, owner, rows)
        many.values.append(t)
        ctx.log(
            f"B1 {n:,} rep {rep + 1}: ours {ours.values[-1]:.3f}s floor {floor.values[-1]:.3f}s "
            f"executemany {t:.3f}s"
        )
    r_floor = ratio(ours, floor)
    r_many = ratio(many, ours)
    return Result(
        scenario=f"B1 fan-out {n:,} ({'group' if group else 'fleet'})",
        ours=ours,
        floor=floor,
        ratio=r_floor,
        goal="<= 1.3x floor; >= 2x faster than executemany",
        met=r_floor <= 1.3 and r_many >= 2,
        note=f"executemany {many.median:.3f}s = {r_many:.2f}x ours",
        extra={"executemany": many.to_json(), "executemany_over_ours": round(r_many, 3)},
    )


async def run(ctx: Ctx, ui: Service) -> list[Result]:
    s = ctx.sizes
    owner = await connect(ctx.db.owner_url)
    results = []
    try:
        await seed_group(owner, "bench", "fanout", s.fanout_group)
        await owner.execute("ANALYZE device_state, device_group_members")
        headers = {"Authorization": f"Bearer {await admin_token(ctx.db.app_url, 'bench')}"}
        async with httpx.AsyncClient(base_url=ui.url, headers=headers, timeout=900) as api:
            results.append(await _case(ctx, owner, api, "bench", "fanout", s.fanout_group))
            if s.fanout_fleet:
                ctx.log(f"B1: seeding a {s.fanout_fleet:,}-device fleet")
                await seed_tenant(owner, "fleet")
                await seed_devices(owner, "fleet", s.fanout_fleet)
                await owner.execute("ANALYZE device_state")
                headers = {"Authorization": f"Bearer {await admin_token(ctx.db.app_url, 'fleet')}"}
                async with httpx.AsyncClient(base_url=ui.url, headers=headers, timeout=900) as fleet_api:
                    results.append(await _case(ctx, owner, fleet_api, "fleet", None, s.fanout_fleet))
        await truncate_jobs(owner)
    finally:
        await owner.close()
    return results

"""The dashboard's failures by minute (job_failure_minutes, migration 097) are kept by the move primitive in
the statement that writes the history: whatever path moved executions to FAILED, TIMED_OUT or REJECTED (a
device's update through iotcloud.move_executions, a sweep's window through iotcloud.apply_range_moves), the
counts by job, minute, status and reason equal the history's; the retention tick purges them after a day,
leaving the history alone."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import asyncpg

from shared.infra.db import create_pool
from shared.retention import run_retention_tick
from tests.conftest import Services, Tenant
from tests.integration.test_state_machine import MOVE, T0, _in_tenant, _setup

RANGE = "SELECT moved FROM iotcloud.apply_range_moves($1, $2, $3, $4, $5, $6, $7, $8, $9)"
FAILED = ("FAILED", "TIMED_OUT", "REJECTED")


async def _from_history(conn: asyncpg.Connection, job: str) -> Counter[tuple[object, ...]]:
    rows = await conn.fetch(
        "SELECT date_trunc('minute', at) AS minute, to_status, "
        "coalesce(left(coalesce(status_details ->> 'reason', status_details ->> 'error'), 200), '') AS reason, "
        "count(*)::int AS n FROM job_execution_events WHERE job_id = $1 AND to_status = ANY($2) GROUP BY 1, 2, 3",
        job,
        list(FAILED),
    )
    return Counter({(r["minute"], r["to_status"], r["reason"]): r["n"] for r in rows})


async def _rollup(conn: asyncpg.Connection, job: str) -> Counter[tuple[object, ...]]:
    rows = await conn.fetch(
        "SELECT minute, to_status, reason, failures FROM job_failure_minutes WHERE job_id = $1", job
    )
    return Counter({(r["minute"], r["to_status"], r["reason"]): r["failures"] for r in rows})


async def test_every_path_to_a_failure_is_counted_by_minute(services: Services, tenant: Tenant) -> None:
    devs, job = await _setup(tenant, 8, expires_in_hours=1)
    devs = sorted(devs)
    claim = T0 + timedelta(seconds=30)
    fail = T0 + timedelta(minutes=1, seconds=10)
    async with _in_tenant(services, tenant) as conn:
        await conn.fetch(MOVE, "device", claim, [job] * 5, devs[:5], ["IN_PROGRESS"] * 5, None, None)
        # two failures with a reason, one with an error, one rejection without details: one statement
        rows = await conn.fetch(
            MOVE,
            "device",
            fail,
            [job] * 5,
            [devs[0], devs[1], devs[2], devs[5], devs[3]],
            ["FAILED", "FAILED", "FAILED", "REJECTED", "SUCCEEDED"],
            [{"reason": "disk full"}, {"reason": "disk full"}, {"error": "x" * 300}, None, None],
            None,
        )
        assert [r["outcome"] for r in rows] == ["moved"] * 5
        # another failure in the same minute adds to its row
        rows = await conn.fetch(
            MOVE, "device", fail + timedelta(seconds=5), [job], [devs[4]], ["FAILED"], [{"reason": "disk full"}],
            None,
        )  # fmt: skip
        assert rows[0]["outcome"] == "moved"
        # the sweep of the expired job: the rest time out, one range, one rollup row
        swept = await conn.fetchval(
            RANGE, "worker", T0 + timedelta(hours=2), job, "", devs[-1], ["QUEUED"], "TIMED_OUT",
            {"reason": "job_expired"}, False,
        )  # fmt: skip
        assert swept == 2
        rollup = await _rollup(conn, job)
        assert rollup == await _from_history(conn, job)
        minute = T0 + timedelta(minutes=1)
        assert rollup == Counter(
            {
                (minute, "FAILED", "disk full"): 3,
                (minute, "FAILED", "x" * 200): 1,
                (minute, "REJECTED", ""): 1,
                (T0 + timedelta(hours=2), "TIMED_OUT", "job_expired"): 2,
            }
        )

    pool = await create_pool(services.db.app_url, min_size=0, max_size=2)
    try:
        await run_retention_tick(pool, T0 + timedelta(hours=2, minutes=30), pause=0)
        async with _in_tenant(services, tenant) as conn:
            assert sum((await _rollup(conn, job)).values()) == 7  # within the day: kept
        result = await run_retention_tick(pool, T0 + timedelta(days=1, minutes=2), pause=0)
        assert result.failure_minutes >= 3
        async with _in_tenant(services, tenant) as conn:
            assert await _rollup(conn, job) == Counter(
                {(T0 + timedelta(hours=2), "TIMED_OUT", "job_expired"): 2}
            )
            assert sum((await _from_history(conn, job)).values()) == 7  # the history stays
    finally:
        await pool.close()

"""Retention: per tenant, the history of finished jobs and finished jobs themselves are purged by the worker's
tick exactly when due (an injected clock), only in the tenants that asked, never a job that may still move;
every invariant holds after each step; a 100k-row purge runs while devices poll (their p99 is printed)."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from ops_worker.ticks import default_ticks
from shared.infra.db import connect, create_pool, tenant_tx
from shared.retention import run_retention_tick, set_retention
from tests.conftest import Services, Tenant, make_tenant
from tests.integration.reliability.invariants import check_all
from tests.support.pg import TestDB

T0 = datetime(2032, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
EPS = timedelta(microseconds=1)


async def _device_put(t: Tenant, dev: str, job: str, status: str) -> None:
    async with t.device_api(dev) as api:
        r = await api.put(f"/device/v1/jobs/{job}/execution", json={"status": status})
        assert r.status_code == 200, r.text


async def _job_for(t: Tenant, job_id: str, devices: list[str]) -> None:
    async with t.api() as api:
        r = await api.post(
            "/customer/jobs", json={"document_type": "fw", "target_group_id": "g", "job_id": job_id}
        )
        assert r.status_code == 201, r.text
        assert r.json()["execution_count"] == len(devices)


async def _scenario(services: Services, t: Tenant) -> None:
    """Jobs of one tenant: 'early' completed at T0, 'late' at T0+10d, 'canceled' canceled at T0 with an
    execution that went on until T0+3d, 'open' still running (claimed at T0-1d, never finished)."""
    devs = await t.create_devices(2, prefix="r")
    await t.create_group("g", devs)
    services.set_clock(T0 - DAY)
    await _job_for(t, "open", devs)
    await _device_put(t, devs[0], "open", "IN_PROGRESS")
    services.set_clock(T0 - 2 * timedelta(hours=1))
    await _job_for(t, "early", devs)
    await _job_for(t, "canceled", devs)
    await _device_put(t, devs[0], "canceled", "IN_PROGRESS")
    for d in devs:
        await _device_put(t, d, "early", "IN_PROGRESS")
    services.set_clock(T0)
    for d in devs:
        await _device_put(t, d, "early", "SUCCEEDED")
    async with t.api() as api:  # DELETE: the QUEUED one is rejected, the IN_PROGRESS one may still finish
        assert (await api.delete("/customer/jobs/canceled")).status_code in (200, 202, 204)
    services.set_clock(T0 + 3 * DAY)
    await _device_put(t, devs[0], "canceled", "SUCCEEDED")
    services.set_clock(T0 + 9 * DAY)
    await _job_for(t, "late", devs)
    services.set_clock(T0 + 10 * DAY)
    for d in devs:
        await _device_put(t, d, "late", "REJECTED")
    services.set_clock(None)


STATE = """
SELECT j.job_id, j.history_purge,
       (SELECT count(*) FROM job_execution_events e WHERE e.tenant_id = j.tenant_id AND e.job_id = j.job_id)::int
           AS events,
       (SELECT count(*) FROM job_executions e WHERE e.tenant_id = j.tenant_id AND e.job_id = j.job_id)::int
           AS executions
  FROM jobs j WHERE j.tenant_id = $1 ORDER BY j.job_id
"""


async def _state(owner: asyncpg.Connection, tenant_id: str) -> dict[str, tuple[Any, ...]]:
    return {
        r["job_id"]: (r["history_purge"], r["events"], r["executions"])
        for r in await owner.fetch(STATE, tenant_id)
    }


async def test_purge_is_exact_in_time_and_stays_in_its_tenant(
    clock: Services, app_pool: asyncpg.Pool
) -> None:
    services = clock
    kept, other = await make_tenant(services), await make_tenant(services)
    for t in (kept, other):
        await _scenario(services, t)
    owner = await connect(services.db.owner_url)
    try:
        await set_retention(owner, kept.tenant_id, 7, 30)
        full = await _state(owner, kept.tenant_id)
        untouched = await _state(owner, other.tenant_id)
        assert full == {
            "canceled": (None, 3, 2),  # claimed and finished (2 events) + rejected by the DELETE (1)
            "early": (None, 4, 2),
            "late": (None, 2, 2),
            "open": (None, 1, 2),
        }

        async def tick_at(now: datetime) -> dict[str, tuple[Any, ...]]:
            await run_retention_tick(app_pool, now, batch_size=2, pause=0)  # small batches: several per job
            await check_all(owner)
            assert await _state(owner, other.tenant_id) == untouched  # no retention there: all kept
            return await _state(owner, kept.tenant_id)

        assert await tick_at(T0 + 7 * DAY) == full  # due only strictly after 7 days
        assert await tick_at(T0 + 7 * DAY + EPS) == {**full, "early": ("purged", 0, 2)}
        # the canceled job finished when its last execution did (T0+3d), not when it was canceled
        assert await tick_at(T0 + 10 * DAY) == {**full, "early": ("purged", 0, 2)}
        step = {**full, "early": ("purged", 0, 2), "canceled": ("purged", 0, 2)}
        assert await tick_at(T0 + 10 * DAY + EPS) == step
        step = {**step, "late": ("purged", 0, 2)}
        assert await tick_at(T0 + 17 * DAY + EPS) == step
        assert await tick_at(T0 + 30 * DAY) == step
        step.pop("early")  # the job itself, with its executions and counters
        assert await tick_at(T0 + 30 * DAY + EPS) == step
        assert await tick_at(T0 + 40 * DAY + EPS) == {"open": (None, 1, 2)}
        # a running job is never purged, however old
        assert await tick_at(T0 + 3000 * DAY) == {"open": (None, 1, 2)}
        left = await owner.fetch(
            "SELECT DISTINCT job_id FROM job_counters WHERE tenant_id = $1", kept.tenant_id
        )
        assert [r["job_id"] for r in left] == ["open"]  # the purged jobs' counter rows went with them
    finally:
        await owner.close()
    async with kept.api() as api:
        assert (await api.get("/customer/jobs/early")).status_code == 404
        assert (await api.get("/customer/jobs/open")).status_code == 200
    async with other.api() as api:
        r = await api.get("/customer/jobs/early/executions/r-00000/events")
        assert r.status_code == 200 and len(r.json()["events"]) == 2  # the other tenant's history is whole


async def test_the_runtime_role_cannot_delete_directly_nor_purge_what_is_not_due(
    services: Services, app_pool: asyncpg.Pool
) -> None:
    t = await make_tenant(services)
    await _scenario(services, t)
    for table in ("job_execution_events", "job_executions", "jobs", "job_counters"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with tenant_tx(app_pool, t.tenant_id) as conn:
                await conn.execute(f"DELETE FROM {table} WHERE false")
    # the tenant has no retention: the functions refuse, whatever the clock says
    far = T0 + 100_000 * DAY
    row = await app_pool.fetchrow(
        "SELECT * FROM iotcloud.purge_history($1, 'early', $2, '', 0, 100)", t.tenant_id, far
    )
    assert row is not None and row["deleted"] == 0
    assert not await app_pool.fetchval("SELECT iotcloud.purge_job($1, 'early', $2)", t.tenant_id, far)
    owner = await connect(services.db.owner_url)
    try:
        await set_retention(owner, t.tenant_id, 1, 1)
    finally:
        await owner.close()
    # with retention: a running job is still refused
    row = await app_pool.fetchrow(
        "SELECT * FROM iotcloud.purge_history($1, 'open', $2, '', 0, 100)", t.tenant_id, far
    )
    assert row is not None and row["deleted"] == 0


def test_the_retention_tick_has_its_own_lock() -> None:
    ticks = {t.name: t for t in default_ticks(60, 5, 3600)}
    assert ticks["retention"].interval == 3600
    assert len({t.lock_key for t in ticks.values()}) == len(ticks) == 3  # one lock per tick


BIG = 33_334  # executions of the old job: + 2 events each = 100,002 rows


async def test_a_100k_row_purge_while_devices_poll(clock: Services) -> None:
    services = clock
    t = await make_tenant(services)
    pollers = await t.create_devices(20, prefix="p")
    await t.create_group("pollers", pollers)
    pool = await create_pool(services.db.app_url, min_size=1, max_size=4)
    try:
        async with tenant_tx(pool, t.tenant_id) as conn:
            await conn.execute(
                "INSERT INTO device_state (tenant_id, device_id, token_hash) "
                "SELECT $1, 'old-' || lpad(i::text, 6, '0'), md5($1 || i::text) || md5(i::text) "
                "FROM generate_series(1, $2) i",
                t.tenant_id,
                BIG,
            )
        services.set_clock(T0)
        async with t.api() as api:
            r = await api.post(
                "/customer/jobs", json={"document_type": "fw", "target_all": True, "job_id": "old"}
            )
            assert r.status_code == 201 and r.json()["execution_count"] == BIG + 20
            r = await api.post(
                "/customer/jobs", json={"document_type": "fw", "target_group_id": "pollers", "job_id": "live"}
            )
            assert r.status_code == 201
        # every execution of the old job claimed then finished, through the one move primitive
        for target in ("IN_PROGRESS", "SUCCEEDED"):
            async with tenant_tx(pool, t.tenant_id) as conn:
                await conn.execute(
                    "SELECT * FROM iotcloud.move_executions_counted('device', $1, array_fill('old'::text, "
                    "ARRAY[cardinality($2::text[])]), $2, array_fill($3::text, ARRAY[cardinality($2::text[])]), NULL)",
                    T0,
                    [
                        r["device_id"]
                        for r in await conn.fetch("SELECT device_id FROM job_executions WHERE job_id = 'old'")
                    ],
                    target,
                )
        services.set_clock(None)
        owner = await connect(services.db.owner_url)
        try:
            assert (
                await owner.fetchval(
                    "SELECT status FROM jobs WHERE tenant_id = $1 AND job_id = 'old'", t.tenant_id
                )
                == "COMPLETED"
            )
            rows = await owner.fetchval(
                "SELECT (SELECT count(*) FROM job_execution_events WHERE tenant_id = $1 AND job_id = 'old') "
                "+ (SELECT count(*) FROM job_executions WHERE tenant_id = $1 AND job_id = 'old')",
                t.tenant_id,
            )
            assert rows >= 100_000
            await set_retention(owner, t.tenant_id, 7, 30)
        finally:
            await owner.close()

        latencies: dict[str, list[float]] = {"before": [], "during": []}
        phase = "before"
        stop = asyncio.Event()
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
        async with httpx.AsyncClient(base_url=services.device.url, limits=limits, timeout=30) as client:

            async def poll(dev: str) -> None:
                headers = {"X-Provision-Token": t.tokens[dev]}
                while not stop.is_set():
                    started = time.perf_counter()
                    r = await client.get("/device/v1/jobs/pending", headers=headers)
                    latencies[phase].append(time.perf_counter() - started)
                    assert r.status_code == 200, r.text
                    assert [j["job_id"] for j in r.json()["jobs"]] == ["live"], r.text
                    await asyncio.sleep(0.02)

            polling = asyncio.gather(*(poll(d) for d in pollers))
            await asyncio.sleep(2)
            phase = "during"
            started = time.perf_counter()
            result = await run_retention_tick(pool, T0 + 31 * DAY)
            took = time.perf_counter() - started
            stop.set()
            await polling

        def p(values: list[float], q: int) -> float:
            return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")

        print(
            f"\n100k-row purge: {result.events} events + {result.executions} executions + {result.jobs} jobs "
            f"in {took:.1f} s, {result.batches} batches; device polls before: {len(latencies['before'])}, "
            f"p50 {p(latencies['before'], 50):.1f} ms, p99 {p(latencies['before'], 99):.1f} ms; during: "
            f"{len(latencies['during'])}, p50 {p(latencies['during'], 50):.1f} ms, "
            f"p99 {p(latencies['during'], 99):.1f} ms"
        )
        # (the shared test database may hold other tenants' jobs due at that time: they go too)
        assert t.tenant_id in result.tenants and result.jobs >= 1
        assert result.events >= 2 * (BIG + 20) and result.executions >= BIG + 20
        assert latencies["during"], "no poll ran during the purge"
        owner = await connect(services.db.owner_url)
        try:
            assert await _state(owner, t.tenant_id) == {"live": (None, 0, 20)}
            await check_all(owner)
        finally:
            await owner.close()
    finally:
        await pool.close()


def test_cli_sets_and_shows_retention(fresh_db: TestDB, tmp_path: Path) -> None:
    from tests.integration.test_cli_admin import clear_error, iotcloud, ok

    ok(iotcloud(fresh_db, tmp_path, "create-tenant", "acme"))
    assert "acme  name='acme'  history kept forever, finished jobs kept forever" in ok(
        iotcloud(fresh_db, tmp_path, "tenants")
    )
    out = ok(
        iotcloud(
            fresh_db, tmp_path, "set-retention", "acme", "--history-days", "30", "--finished-jobs-days", "365"
        )
    )
    assert "history kept 30 days, finished jobs kept 365 days" in out
    # an option not given is left as it was; 0 is forever again
    out = ok(iotcloud(fresh_db, tmp_path, "set-retention", "acme", "--history-days", "0"))
    assert "history kept forever, finished jobs kept 365 days" in out
    assert "history kept forever, finished jobs kept 365 days" in ok(iotcloud(fresh_db, tmp_path, "tenants"))
    clear_error(
        iotcloud(fresh_db, tmp_path, "set-retention", "acme", "--history-days", "-3"), "between 1 and 36500"
    )
    clear_error(
        iotcloud(fresh_db, tmp_path, "set-retention", "acme", "--finished-jobs-days", "40000"),
        "between 1 and 36500",
    )
    clear_error(
        iotcloud(fresh_db, tmp_path, "set-retention", "nobody", "--history-days", "3"), "no tenant 'nobody'"
    )
    assert "finished jobs kept 365 days" in ok(
        iotcloud(fresh_db, tmp_path, "tenants")
    )  # refusals changed nothing

"""Defects found in review, each pinned by a test that failed before its fix: claimed work survives its
job's expiry; each job's QUEUED executions are swept once, so expired jobs with stuck work are not rescanned
and cannot starve later ones; a cancel sweeps in batches; a lost transaction race is a 503, not a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from shared.infra.db import connect
from shared.jobs import service
from shared.jobs.expiry import run_jobs_expiry_tick
from tests.conftest import Services, Tenant

T0 = datetime(2033, 1, 1, tzinfo=UTC)


async def _create(tenant: Tenant, **job: Any) -> str:
    tenant.services.set_clock(T0)
    try:
        async with tenant.api() as api:
            r = await api.post("/customer/jobs", json={"document_type": "fw", **job})
            assert r.status_code == 201, r.text
            return str(r.json()["job_id"])
    finally:
        tenant.services.set_clock(None)


async def test_claimed_work_survives_expiry_and_can_finish(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs = await tenant.create_devices(2, prefix="cw")
    await tenant.create_group("cw", devs)
    job = await _create(tenant, target_group_id="cw", expires_in_hours=1)
    clock.set_clock(T0 + timedelta(minutes=5))
    async with tenant.device_api(devs[0]) as d:
        assert (
            await d.put(f"/device/v1/jobs/{job}/execution", json={"status": "IN_PROGRESS"})
        ).status_code == 200
    clock.set_clock(T0 + timedelta(hours=2))  # past expiry, before and after the tick
    for tick in (False, True):
        if tick:
            await run_jobs_expiry_tick(app_pool, T0 + timedelta(hours=2))
        async with tenant.device_api(devs[0]) as d:  # the device restarted: it finds its work again
            polled = (await d.get("/device/v1/jobs/pending")).json()["jobs"]
            assert [(j["job_id"], j["status"]) for j in polled] == [(job, "IN_PROGRESS")]
            assert (await d.get(f"/device/v1/jobs/{job}/execution")).json()["status"] == "IN_PROGRESS"
        async with tenant.device_api(devs[1]) as d:  # its QUEUED work is gone from the poll
            assert (await d.get("/device/v1/jobs/pending")).json()["jobs"] == []
    async with tenant.device_api(devs[0]) as d:
        done = await d.put(f"/device/v1/jobs/{job}/execution", json={"status": "SUCCEEDED"})
        assert done.status_code == 200 and done.json()["job_completed"] is True
    async with tenant.api() as api:
        body = (await api.get(f"/customer/jobs/{job}")).json()
    assert body["status"] == "COMPLETED"
    assert sorted(e["status"] for e in body["executions"]) == ["SUCCEEDED", "TIMED_OUT"]


async def _expired_jobs_with_stuck_work(services: Services, tenant: Tenant, n: int) -> None:
    """n jobs past expiry, each with one IN_PROGRESS execution nobody finishes (inserted as the owner, history
    included, so the session database keeps every invariant for the tests that check them all)."""
    owner = await connect(services.db.owner_url)
    try:
        async with owner.transaction():
            await owner.execute(
                "INSERT INTO device_state (tenant_id, device_id, name, token_hash) VALUES ($1, 'stuck', '', $2)",
                tenant.tenant_id,
                f"stuck-{tenant.tenant_id}",
            )
            await owner.execute(
                "INSERT INTO jobs (tenant_id, job_id, document_type, target_device_id, execution_count,"
                "                  expires_at, created_at, updated_at) "
                "SELECT $1, 'stuck-' || i, 'fw', 'stuck', 1, $2, $2, $2 FROM generate_series(1, $3) i",
                tenant.tenant_id,
                T0 - timedelta(hours=1),
                n,
            )
            await owner.execute(
                "INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, started_at)"
                " SELECT $1, 'stuck-' || i, 'stuck', 'IN_PROGRESS', 2, $2 FROM generate_series(1, $3) i",
                tenant.tenant_id,
                T0 - timedelta(hours=2),
                n,
            )
            await owner.execute(
                "INSERT INTO job_counters (tenant_id, job_id, shard, in_progress) "
                "SELECT $1, 'stuck-' || i, 0, 1 FROM generate_series(1, $2) i",
                tenant.tenant_id,
                n,
            )
            await owner.execute(  # each claim in the history, as a device's move would have written it
                "INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor,"
                "                                  execution_number, at)"
                " SELECT $1, 'stuck-' || i, 'stuck', 'QUEUED', 'IN_PROGRESS', 'device', 2, $2"
                "   FROM generate_series(1, $3) i",
                tenant.tenant_id,
                T0 - timedelta(hours=2),
                n,
            )
    finally:
        await owner.close()


async def test_expired_jobs_are_swept_once_and_cannot_starve_later_ones(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    await _expired_jobs_with_stuck_work(services, tenant, 1500)
    devs = await tenant.create_devices(1, prefix="late")
    late = await _create(tenant, target_device_id=devs[0], expires_in_hours=1)

    def mine(r: Any) -> int:
        return int(r.timed_out_by_tenant.get(tenant.tenant_id, 0))

    now = T0 + timedelta(hours=1, minutes=1)
    first = await run_jobs_expiry_tick(app_pool, now, max_jobs=1000)
    second = await run_jobs_expiry_tick(app_pool, now, max_jobs=1000)
    # 1,501 jobs to sweep, at most 1,000 a tick: the late job's QUEUED execution is timed out by the second
    assert mine(first) + mine(second) == 1
    third = await run_jobs_expiry_tick(app_pool, now + timedelta(minutes=1), max_jobs=1000)
    assert tenant.tenant_id not in third.tenants  # nothing is rescanned
    async with tenant.api() as api:
        body = (await api.get(f"/customer/jobs/{late}")).json()
    assert body["status"] == "COMPLETED" and body["executions"][0]["status"] == "TIMED_OUT"
    owner = await connect(services.db.owner_url)
    try:
        unswept = await owner.fetchval(
            "SELECT count(*) FROM jobs WHERE tenant_id = $1 AND queued_swept_at IS NULL", tenant.tenant_id
        )
        stuck = await owner.fetchval(
            "SELECT count(*) FROM job_executions WHERE tenant_id = $1 AND status = 'IN_PROGRESS'",
            tenant.tenant_id,
        )
    finally:
        await owner.close()
    assert unswept == 0 and stuck == 1500  # the stuck work is left alone: only its device can end it


async def test_cancel_sweeps_in_batches(services: Services, tenant: Tenant, app_pool: asyncpg.Pool) -> None:
    devs = await tenant.create_devices(7, prefix="cb")
    await tenant.create_group("cb", devs)
    job = await _create(tenant, target_group_id="cb")
    async with tenant.device_api(devs[3]) as d:
        assert (
            await d.put(f"/device/v1/jobs/{job}/execution", json={"status": "IN_PROGRESS"})
        ).status_code == 200
    out = await service.cancel_job(
        app_pool, tenant.tenant_id, job, "bad build", T0 + timedelta(minutes=1), batch=2
    )
    assert out == {"job_id": job, "status": "CANCELED", "moved": 6, "sweep_complete": True}
    async with tenant.api() as api:
        body = (await api.get(f"/customer/jobs/{job}")).json()
        history = (await api.get(f"/customer/jobs/{job}/executions/{devs[0]}/events")).json()["events"]
    assert body["counts"]["rejected"] == 6 and body["counts"]["in_progress"] == 1
    assert history[-1]["actor"] == "operator"
    assert history[-1]["status_details"] == {"reason": "job_canceled", "message": "bad build"}
    async with tenant.device_api(devs[0]) as d:  # a canceled job's QUEUED work can no longer start
        assert (await d.get("/device/v1/jobs/pending")).json()["jobs"] == []


async def test_a_cancel_cut_short_is_finished_by_the_tick(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs = await tenant.create_devices(3, prefix="cs")
    await tenant.create_group("cs", devs)
    job = await _create(tenant, target_group_id="cs")
    owner = await connect(services.db.owner_url)
    try:  # the job was canceled, and the process died before its sweep
        await owner.execute(
            "UPDATE jobs SET status = 'CANCELED', canceled_at = $2, updated_at = $2, cancel_mode = 'reject' "
            "WHERE tenant_id = $1",
            tenant.tenant_id,
            T0,
        )
    finally:
        await owner.close()
    result = await run_jobs_expiry_tick(app_pool, T0 + timedelta(minutes=1))
    assert tenant.tenant_id in result.tenants and result.rejected >= 3
    async with tenant.api() as api:
        body = (await api.get(f"/customer/jobs/{job}")).json()
    assert body["counts"]["rejected"] == 3 and body["counts"]["queued"] == 0
    assert {e["status"] for e in body["executions"]} == {"REJECTED"}
    # canceled without a reason: the details say so and carry no empty message
    assert {str(e["status_details"]) for e in body["executions"]} == {str({"reason": "job_canceled"})}


async def test_device_jobs_total_is_kept_past_the_last_page(tenant: Tenant) -> None:
    devs = await tenant.create_devices(1, prefix="pg")
    await _create(tenant, target_device_id=devs[0])
    async with tenant.api() as api:
        r = await api.get(f"/customer/devices/{devs[0]}/jobs", params={"offset": 10})
    assert r.status_code == 200 and r.json()["executions"] == [] and r.json()["total"] == 1


async def test_history_is_paged(tenant: Tenant) -> None:
    devs = await tenant.create_devices(1, prefix="hp")
    job = await _create(tenant, target_device_id=devs[0])
    async with tenant.device_api(devs[0]) as d:
        for step in range(5):  # a claim and four progress updates
            r = await d.put(
                f"/device/v1/jobs/{job}/execution",
                json={"status": "IN_PROGRESS", "status_details": {"step": step}},
            )
            assert r.status_code == 200
    pages: list[list[int]] = []
    after = None
    async with tenant.api() as api:
        while True:
            params = {"limit": 2} | ({"after": after} if after is not None else {})
            r = await api.get(f"/customer/jobs/{job}/executions/{devs[0]}/events", params=params)
            assert r.status_code == 200
            pages.append([e["execution_number"] for e in r.json()["events"]])
            after = r.json()["next_after"]
            if after is None:
                break
    assert pages == [[2, 3], [4, 5], [6]]


async def test_a_revocation_waits_for_the_job_that_targets_the_device(
    services: Services, tenant: Tenant
) -> None:
    devs = await tenant.create_devices(1, prefix="rv")
    app = await connect(services.db.app_url)
    other = await connect(services.db.owner_url)
    try:
        async with app.transaction():
            await app.execute("SELECT set_config('app.tenant_id', $1, true)", tenant.tenant_id)
            job = await service.create_job(
                app,
                job_id=None,
                document_type="fw",
                document_params={},
                target_device_id=devs[0],
                target_group_id=None,
                target_all=False,
                expires_in_hours=None,
                created_by=None,
                now=T0,
            )
            assert job["execution_count"] == 1
            await other.execute("SET lock_timeout = '200ms'")
            try:
                await other.execute(
                    "UPDATE device_state SET status = 'REVOKED' WHERE tenant_id = $1 AND device_id = $2",
                    tenant.tenant_id,
                    devs[0],
                )
                raise AssertionError("the revocation did not wait for the job's fan-out")
            except asyncpg.LockNotAvailableError:
                pass
    finally:
        await app.close()
        await other.close()

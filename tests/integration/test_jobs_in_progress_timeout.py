"""In-progress timeout (AWS IoT Jobs' inProgressTimeoutInMinutes): a claimed execution that is not finished
within the job's in_progress_timeout_minutes becomes TIMED_OUT on the worker's tick, exactly once, even
while its device races to finish it. Exact times through the injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from shared.jobs.expiry import run_in_progress_timeouts, run_jobs_expiry_tick
from shared.jobs.states import COUNTER_COLUMNS
from tests.conftest import Services, Tenant

T0 = datetime(2032, 3, 1, tzinfo=UTC)
ZERO = dict.fromkeys(COUNTER_COLUMNS.values(), 0)


async def _job(t: Tenant, job_id: str) -> dict[str, Any]:
    async with t.api() as api:
        r = await api.get(f"/customer/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


async def _put(t: Tenant, device: str, job_id: str, body: dict[str, Any]) -> httpx.Response:
    async with t.device_api(device) as d:
        return await d.put(f"/device/v1/jobs/{job_id}/execution", json=body)


async def test_claimed_execution_times_out_after_its_deadline(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs = await tenant.create_devices(3, prefix="ipt")
    await tenant.create_group("ipt", devs)
    clock.set_clock(T0)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs",
            json={"document_type": "ota", "target_group_id": "ipt", "in_progress_timeout_minutes": 10,
                  "job_id": "ipt-job"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["in_progress_timeout_minutes"] == 10
        bad = await api.post(
            "/customer/jobs",
            json={"document_type": "ota", "target_group_id": "ipt", "in_progress_timeout_minutes": 0},
        )
        assert bad.status_code == 422
    assert (await _put(tenant, devs[0], "ipt-job", {"status": "IN_PROGRESS"})).status_code == 200
    clock.set_clock(T0 + timedelta(minutes=5))
    assert (await _put(tenant, devs[1], "ipt-job", {"status": "IN_PROGRESS"})).status_code == 200

    early = await run_jobs_expiry_tick(app_pool, T0 + timedelta(minutes=10) - timedelta(microseconds=1))
    assert early.timed_out_by_tenant.get(tenant.tenant_id, 0) == 0
    due = await run_jobs_expiry_tick(app_pool, T0 + timedelta(minutes=10))
    assert due.timed_out_by_tenant[tenant.tenant_id] == 1

    job = await _job(tenant, "ipt-job")
    assert job["status"] == "IN_PROGRESS"
    assert job["counts"] == {**ZERO, "queued": 1, "in_progress": 1, "timed_out": 1}
    by_dev = {e["device_id"]: e for e in job["executions"]}
    assert by_dev[devs[0]]["status"] == "TIMED_OUT"
    assert by_dev[devs[0]]["status_details"] == {"reason": "in_progress_timeout"}
    async with tenant.api() as api:
        events = (await api.get(f"/customer/jobs/ipt-job/executions/{devs[0]}/events")).json()["events"]
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("QUEUED", "IN_PROGRESS", "device"),
        ("IN_PROGRESS", "TIMED_OUT", "worker"),
    ]

    # the late device is told where its execution stands; nothing changes
    late = await _put(tenant, devs[0], "ipt-job", {"status": "SUCCEEDED"})
    assert late.status_code == 409 and late.json()["current"]["status"] == "TIMED_OUT"

    # progress updates do not move the deadline (claim + 10 minutes); past it, before any tick has run,
    # the device's updates are refused all the same
    clock.set_clock(T0 + timedelta(minutes=14))
    r = await _put(tenant, devs[1], "ipt-job", {"status": "IN_PROGRESS", "status_details": {"pct": 90}})
    assert r.status_code == 200
    clock.set_clock(T0 + timedelta(minutes=15))
    for body in ({"status": "SUCCEEDED"}, {"status": "IN_PROGRESS", "status_details": {"pct": 99}}):
        r = await _put(tenant, devs[1], "ipt-job", body)
        assert r.status_code == 409, r.text
        assert "in-progress timeout" in r.json()["detail"] and r.json()["current"]["status"] == "IN_PROGRESS"
    assert (await run_jobs_expiry_tick(app_pool, T0 + timedelta(minutes=15))).timed_out_by_tenant[
        tenant.tenant_id
    ] == 1

    # the last device finishes: nothing is active any more, the job completes
    clock.set_clock(T0 + timedelta(minutes=20))
    assert (await _put(tenant, devs[2], "ipt-job", {"status": "IN_PROGRESS"})).status_code == 200
    assert (await _put(tenant, devs[2], "ipt-job", {"status": "SUCCEEDED"})).status_code == 200
    job = await _job(tenant, "ipt-job")
    assert job["status"] == "COMPLETED"
    assert job["counts"] == {**ZERO, "succeeded": 1, "timed_out": 2}
    again = await run_jobs_expiry_tick(app_pool, T0 + timedelta(days=30))
    assert again.timed_out_by_tenant.get(tenant.tenant_id, 0) == 0  # nothing is done twice


async def test_without_a_timeout_a_claim_never_times_out(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    [dev] = await tenant.create_devices(1, prefix="nto")
    clock.set_clock(T0)
    async with tenant.api() as api:
        body = {"document_type": "ota", "target_device_id": dev, "job_id": "nto-job"}
        assert (await api.post("/customer/jobs", json=body)).status_code == 201
    assert (await _put(tenant, dev, "nto-job", {"status": "IN_PROGRESS"})).status_code == 200
    result = await run_jobs_expiry_tick(app_pool, T0 + timedelta(days=3650))
    assert result.timed_out_by_tenant.get(tenant.tenant_id, 0) == 0
    assert (await _job(tenant, "nto-job"))["counts"]["in_progress"] == 1


async def test_devices_finishing_while_the_tick_times_them_out(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    """At the deadline, 60 devices report SUCCEEDED while four timeout passes run: each execution ends exactly once,
    either SUCCEEDED (its device's 200) or TIMED_OUT (its device's 409), and the counters agree."""
    devs = await tenant.create_devices(60, prefix="ipr")
    await tenant.create_group("ipr", devs)
    clock.set_clock(T0)
    async with tenant.api() as api:
        body = {"document_type": "ota", "target_group_id": "ipr", "in_progress_timeout_minutes": 1,
                "job_id": "ipr-job"}  # fmt: skip
        assert (await api.post("/customer/jobs", json=body)).status_code == 201
    claims = await asyncio.gather(*(_put(tenant, d, "ipr-job", {"status": "IN_PROGRESS"}) for d in devs))
    assert all(r.status_code == 200 for r in claims)

    deadline = T0 + timedelta(minutes=1)
    # the devices report a microsecond before their deadline while the passes run at it: either side may win
    clock.set_clock(deadline - timedelta(microseconds=1))
    ticks, reports = await asyncio.gather(
        asyncio.gather(*(run_in_progress_timeouts(app_pool, deadline, batch_size=2) for _ in range(4))),
        asyncio.gather(*(_put(tenant, d, "ipr-job", {"status": "SUCCEEDED"}) for d in devs)),
    )
    codes = [r.status_code for r in reports]
    assert set(codes) <= {200, 409}
    succeeded = codes.count(200)
    timed_out = sum(t.timed_out_by_tenant.get(tenant.tenant_id, 0) for t in ticks)
    assert succeeded + timed_out == 60
    for r in reports:
        if r.status_code == 409:
            assert r.json()["current"]["status"] == "TIMED_OUT"

    job = await _job(tenant, "ipr-job")
    assert job["status"] == "COMPLETED"
    assert job["counts"] == {**ZERO, "succeeded": succeeded, "timed_out": timed_out}
    statuses = [e["status"] for e in job["executions"]]
    assert statuses.count("SUCCEEDED") == succeeded and statuses.count("TIMED_OUT") == timed_out
    print(f"\nin-progress timeout race: {succeeded} finished in time, {timed_out} timed out")

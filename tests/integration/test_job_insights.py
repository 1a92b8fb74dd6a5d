"""The job page's insights over real HTTP on a real database: executions by status over time (rebuilt from the
history, ending at the counters) and failures grouped by reason; unknown or another tenant's job is a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from shared.jobs.expiry import run_jobs_expiry_tick
from tests.conftest import Services, Tenant

T0 = datetime(2032, 5, 1, 12, 0, tzinfo=UTC)


async def _put(t: Tenant, device: str, job_id: str, body: dict[str, Any]) -> httpx.Response:
    async with t.device_api(device) as d:
        r = await d.put(f"/device/v1/jobs/{job_id}/execution", json=body)
        assert r.status_code == 200, r.text
        return r


async def _get(t: Tenant, path: str, **params: Any) -> httpx.Response:
    async with t.api() as api:
        return await api.get(path, params=params)


async def _failing_job(clock: Services, tenant: Tenant, app_pool: asyncpg.Pool) -> list[str]:
    """Six devices: at +10 min two FAILED (disk_full), one FAILED without details, one REJECTED with details
    but no reason; one claims at +20 min and times out at +30 min (in_progress_timeout); one stays QUEUED."""
    devs = await tenant.create_devices(6, prefix="ins")
    await tenant.create_group("ins", devs)
    clock.set_clock(T0)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs",
            json={"job_id": "ins-job", "document_type": "ota", "target_group_id": "ins",
                  "in_progress_timeout_minutes": 10},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    clock.set_clock(T0 + timedelta(minutes=10))
    for dev, details in (
        (devs[0], {"reason": "disk_full"}),
        (devs[1], {"reason": "disk_full"}),
        (devs[2], None),
    ):
        await _put(tenant, dev, "ins-job", {"status": "IN_PROGRESS"})
        await _put(tenant, dev, "ins-job", {"status": "FAILED", "status_details": details})
    await _put(tenant, devs[3], "ins-job", {"status": "REJECTED", "status_details": {"why": "busy"}})
    clock.set_clock(T0 + timedelta(minutes=20))
    await _put(tenant, devs[4], "ins-job", {"status": "IN_PROGRESS"})
    ticked = await run_jobs_expiry_tick(app_pool, T0 + timedelta(minutes=30))
    assert ticked.timed_out_by_tenant[tenant.tenant_id] == 1
    clock.set_clock(T0 + timedelta(minutes=40))
    return devs


async def test_failure_reasons_are_grouped_with_a_sample_device(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs = await _failing_job(clock, tenant, app_pool)
    r = await _get(tenant, "/customer/jobs/ins-job/failure-reasons")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 5 and body["limit"] == 10
    assert body["reasons"] == [
        {"status": "FAILED", "reason": "disk_full", "count": 2, "sample_device_id": devs[0]},
        {"status": "FAILED", "reason": None, "count": 1, "sample_device_id": devs[2]},
        {"status": "REJECTED", "reason": '{"why": "busy"}', "count": 1, "sample_device_id": devs[3]},
        {"status": "TIMED_OUT", "reason": "in_progress_timeout", "count": 1, "sample_device_id": devs[4]},
    ]
    only = (await _get(tenant, "/customer/jobs/ins-job/failure-reasons", status="TIMED_OUT", limit=1)).json()
    assert only["total"] == 1 and [x["reason"] for x in only["reasons"]] == ["in_progress_timeout"]
    top = (await _get(tenant, "/customer/jobs/ins-job/failure-reasons", limit=1)).json()
    assert top["total"] == 5 and [x["count"] for x in top["reasons"]] == [2]


async def test_status_series_replays_the_history_up_to_the_counters(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    await _failing_job(clock, tenant, app_pool)
    r = await _get(tenant, "/customer/jobs/ins-job/status-series")
    assert r.status_code == 200, r.text
    body = r.json()
    # 40 minutes of a running job: 30-second buckets (at most 120), 81 points from creation to now.
    assert body["bucket_seconds"] == 30 and len(body["points"]) == 81
    assert body["from"].startswith("2032-05-01T12:00:00") and body["to"].startswith("2032-05-01T12:40:00")
    points = {p["at"][11:19]: p["counts"] for p in body["points"]}
    assert points["12:00:00"]["queued"] == 6 and sum(points["12:00:00"].values()) == 6
    assert points["12:10:00"]["queued"] == 6  # the moves at 12:10 count from the next point on
    at_11 = points["12:10:30"]
    assert (at_11["queued"], at_11["failed"], at_11["rejected"], at_11["in_progress"]) == (2, 3, 1, 0)
    assert points["12:21:00"]["in_progress"] == 1 and points["12:21:00"]["queued"] == 1
    job = (await _get(tenant, "/customer/jobs/ins-job")).json()
    assert points["12:40:00"] == job["counts"]
    assert points["12:31:00"]["timed_out"] == 1 and all(sum(c.values()) == 6 for c in points.values())


async def test_a_finished_job_ends_its_series_at_its_end(clock: Services, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="fin")
    clock.set_clock(T0)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"job_id": "fin", "document_type": "x", "target_device_id": dev}
        )
        assert r.status_code == 201, r.text
    clock.set_clock(T0 + timedelta(seconds=10))
    await _put(tenant, dev, "fin", {"status": "IN_PROGRESS"})
    clock.set_clock(T0 + timedelta(seconds=30))
    await _put(tenant, dev, "fin", {"status": "SUCCEEDED"})
    clock.set_clock(T0 + timedelta(days=3))
    body = (await _get(tenant, "/customer/jobs/fin/status-series")).json()
    assert body["bucket_seconds"] == 1 and len(body["points"]) == 31
    assert body["points"][0]["counts"]["queued"] == 1 and body["points"][11]["counts"]["in_progress"] == 1
    assert body["points"][-1]["counts"]["succeeded"] == 1
    assert body["points"][-1]["at"].startswith("2032-05-01T12:00:30")


async def test_bad_input_is_a_4xx_and_another_tenants_job_is_not_found(
    clock: Services, tenant: Tenant, other_tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    await _failing_job(clock, tenant, app_pool)
    for path in ("status-series", "failure-reasons"):
        for who, job in ((tenant, "nope"), (other_tenant, "ins-job")):
            r = await _get(who, f"/customer/jobs/{job}/{path}")
            assert r.status_code == 404, r.text
            assert "ins-" not in r.text.replace("'ins-job'", "")
    for params in ({"status": "SUCCEEDED"}, {"limit": 0}, {"limit": 51}, {"limit": "x"}):
        r = await _get(tenant, "/customer/jobs/ins-job/failure-reasons", **params)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/json")
    # The other tenant's own job of the same id shows its own executions only.
    [dev] = await other_tenant.create_devices(1, prefix="ins")
    async with other_tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"job_id": "ins-job", "document_type": "x", "target_device_id": dev}
        )
        assert r.status_code == 201, r.text
    theirs = (await _get(other_tenant, "/customer/jobs/ins-job/failure-reasons")).json()
    assert theirs["total"] == 0 and theirs["reasons"] == []
    series = (await _get(other_tenant, "/customer/jobs/ins-job/status-series")).json()
    assert all(sum(p["counts"].values()) == 1 for p in series["points"])

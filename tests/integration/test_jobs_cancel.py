"""AWS CancelJob and CancelJobExecution over HTTP: `POST /customer/jobs/{id}/cancel` (QUEUED -> CANCELED;
with force, IN_PROGRESS -> CANCELED too) and `POST /customer/jobs/{id}/executions/{device_id}/cancel`
(one execution; IN_PROGRESS only with force). Counters, history and completion stay exact: every test ends
with the invariant checker over the whole database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from shared.infra.db import SET_TENANT, connect, tenant_tx
from shared.jobs import queries as q
from shared.jobs.expiry import run_jobs_expiry_tick
from shared.jobs.states import COUNTER_COLUMNS
from tests.conftest import Services, Tenant
from tests.integration.reliability.invariants import check_all
from tests.support.locks import until_waiting

T0 = datetime(2034, 5, 1, tzinfo=UTC)
ZERO = dict.fromkeys(COUNTER_COLUMNS.values(), 0)


@pytest.fixture(autouse=True)
async def exact_after(services: Services) -> AsyncIterator[None]:
    """Counters, history chains, moves and completion are exact after each test."""
    yield
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()


async def _job(tenant: Tenant, n: int, prefix: str) -> tuple[list[str], str]:
    devs = await tenant.create_devices(n, prefix=prefix)
    await tenant.create_group(prefix, devs)
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", "target_group_id": prefix})
        assert r.status_code == 201, r.text
    return devs, r.json()["job_id"]


async def _put(tenant: Tenant, dev: str, job: str, status: str) -> httpx.Response:
    async with tenant.device_api(dev) as d:
        return await d.put(f"/device/v1/jobs/{job}/execution", json={"status": status})


async def _get(tenant: Tenant, path: str) -> Any:
    async with tenant.api() as api:
        r = await api.get(path)
        assert r.status_code == 200, r.text
        return r.json()


async def _events(tenant: Tenant, job: str, dev: str) -> list[tuple[str, str, str]]:
    events = (await _get(tenant, f"/customer/jobs/{job}/executions/{dev}/events"))["events"]
    return [(e["actor"], e["from_status"], e["to_status"]) for e in events]


async def test_cancel_job_cancels_queued_work_and_leaves_started_work(
    clock: Services, tenant: Tenant
) -> None:
    devs, job = await _job(tenant, 4, "cj")
    assert (await _put(tenant, devs[0], job, "IN_PROGRESS")).status_code == 200
    clock.set_clock(T0)
    async with tenant.api() as api:
        r = await api.post(
            f"/customer/jobs/{job}/cancel", json={"reason_code": "WRONG_FW", "comment": "oops"}
        )
        assert r.status_code == 200, r.text
        assert r.json() == {
            "job_id": job,
            "status": "CANCELED",
            "force": False,
            "canceled_executions": 3,
            "sweep_complete": True,
        }
        again = await api.post(f"/customer/jobs/{job}/cancel", json={})
        assert again.status_code == 409 and again.json()["status"] == "CANCELED", again.text
        assert (await api.post("/customer/jobs/ghost/cancel")).status_code == 404
        bad = await api.post(f"/customer/jobs/{job}/cancel", json={"reason_code": "not upper"})
        assert bad.status_code == 422
    detail = await _get(tenant, f"/customer/jobs/{job}")
    assert detail["status"] == "CANCELED" and detail["cancel_mode"] == "cancel"
    assert datetime.fromisoformat(detail["canceled_at"].replace("Z", "+00:00")) == T0
    assert detail["cancel_reason_code"] == "WRONG_FW" and detail["cancel_reason"] == "oops"
    assert detail["counts"] == ZERO | {"canceled": 3, "in_progress": 1}
    by_dev = {e["device_id"]: e for e in detail["executions"]}
    assert by_dev[devs[1]]["status"] == "CANCELED"
    assert by_dev[devs[1]]["status_details"] == {
        "reason": "job_canceled",
        "reason_code": "WRONG_FW",
        "message": "oops",
    }
    assert await _events(tenant, job, devs[1]) == [("operator", "QUEUED", "CANCELED")]
    # canceled work cannot start; started work may finish, and the job stays CANCELED
    refused = await _put(tenant, devs[1], job, "IN_PROGRESS")
    assert refused.status_code == 409 and refused.json()["current"]["status"] == "CANCELED", refused.text
    assert (await _put(tenant, devs[0], job, "SUCCEEDED")).status_code == 200
    detail = await _get(tenant, f"/customer/jobs/{job}")
    assert detail["status"] == "CANCELED" and detail["counts"] == ZERO | {"canceled": 3, "succeeded": 1}
    assert detail["progress"] == 1.0
    # the seed contract's DELETE still rejects: a canceled job cannot be canceled again either way
    async with tenant.api() as api:
        assert (await api.delete(f"/customer/jobs/{job}")).status_code == 409


async def test_force_cancel_job_cancels_started_work_too(tenant: Tenant) -> None:
    devs, job = await _job(tenant, 3, "fj")
    assert (await _put(tenant, devs[0], job, "IN_PROGRESS")).status_code == 200
    assert (await _put(tenant, devs[1], job, "IN_PROGRESS")).status_code == 200
    assert (await _put(tenant, devs[1], job, "SUCCEEDED")).status_code == 200
    async with tenant.api() as api:
        r = await api.post(f"/customer/jobs/{job}/cancel", json={"force": True})
        assert r.status_code == 200, r.text
        assert r.json()["canceled_executions"] == 2 and r.json()["force"] is True
    detail = await _get(tenant, f"/customer/jobs/{job}")
    assert detail["cancel_mode"] == "force" and detail["cancel_reason_code"] is None
    assert detail["counts"] == ZERO | {"canceled": 2, "succeeded": 1}
    # the device's next update of its canceled work gets 409 with the current (terminal) state
    late = await _put(tenant, devs[0], job, "SUCCEEDED")
    assert late.status_code == 409, late.text
    assert late.json()["reason"] == "not_allowed" and late.json()["current"]["status"] == "CANCELED"
    assert "canceled" in late.json()["detail"]
    assert late.json()["current"]["status_details"] == {"reason": "job_canceled", "force": True}
    assert await _events(tenant, job, devs[0]) == [
        ("device", "QUEUED", "IN_PROGRESS"),
        ("operator", "IN_PROGRESS", "CANCELED"),
    ]
    async with tenant.device_api(devs[0]) as d:
        assert (await d.get("/device/v1/jobs/pending")).json()["jobs"] == []
    assert (await _get(tenant, f"/customer/jobs/{job}"))["status"] == "CANCELED"


async def test_cancel_execution(tenant: Tenant) -> None:
    devs, job = await _job(tenant, 4, "ce")
    base = f"/customer/jobs/{job}/executions"
    assert (await _put(tenant, devs[1], job, "IN_PROGRESS")).status_code == 200
    assert (await _put(tenant, devs[3], job, "IN_PROGRESS")).status_code == 200
    async with tenant.api() as api:
        # QUEUED: no force needed
        r = await api.post(f"{base}/{devs[0]}/cancel")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "CANCELED" and r.json()["execution_number"] == 2
        assert r.json()["job_completed"] is False and r.json()["status_details"] == {
            "reason": "execution_canceled"
        }
        # the same cancel again (a retry) answers the current state and changes nothing
        assert (await api.post(f"{base}/{devs[0]}/cancel", json={})).json()["execution_number"] == 2
        # IN_PROGRESS: only with force, and at the expected version when one is given
        r = await api.post(f"{base}/{devs[1]}/cancel", json={"force": False})
        assert r.status_code == 409 and r.json()["reason"] == "not_forced", r.text
        assert r.json()["current"]["status"] == "IN_PROGRESS"
        r = await api.post(f"{base}/{devs[1]}/cancel", json={"force": True, "expected_version": 1})
        assert r.status_code == 409 and r.json()["reason"] == "version_mismatch", r.text
        r = await api.post(f"{base}/{devs[1]}/cancel", json={"force": True, "expected_version": 2})
        assert r.status_code == 200 and r.json()["status"] == "CANCELED", r.text
        # 404: no such execution; 422: a bad body
        assert (await api.post(f"{base}/ghost/cancel")).status_code == 404
        assert (await api.post(f"/customer/jobs/ghost/executions/{devs[0]}/cancel")).status_code == 404
        assert (await api.post(f"{base}/{devs[0]}/cancel", json={"force": "yes"})).status_code == 422
    # the canceled device is refused; the job runs on for the others
    refused = await _put(tenant, devs[1], job, "SUCCEEDED")
    assert refused.status_code == 409 and refused.json()["current"]["status"] == "CANCELED"
    assert (await _put(tenant, devs[2], job, "REJECTED")).status_code == 200
    assert (await _put(tenant, devs[3], job, "SUCCEEDED")).status_code == 200
    detail = await _get(tenant, f"/customer/jobs/{job}")
    assert detail["status"] == "COMPLETED"
    assert detail["counts"] == ZERO | {"canceled": 2, "rejected": 1, "succeeded": 1}
    async with tenant.api() as api:  # terminal: nothing to cancel
        r = await api.post(f"{base}/{devs[3]}/cancel", json={"force": True})
        assert r.status_code == 409 and r.json()["reason"] == "not_allowed", r.text
        assert r.json()["current"]["status"] == "SUCCEEDED"
    assert await _events(tenant, job, devs[1]) == [
        ("device", "QUEUED", "IN_PROGRESS"),
        ("operator", "IN_PROGRESS", "CANCELED"),
    ]


async def test_canceling_the_last_active_execution_completes_the_job(tenant: Tenant) -> None:
    devs, job = await _job(tenant, 2, "cl")
    assert (await _put(tenant, devs[0], job, "IN_PROGRESS")).status_code == 200
    assert (await _put(tenant, devs[0], job, "FAILED")).status_code == 200
    assert (await _put(tenant, devs[1], job, "IN_PROGRESS")).status_code == 200
    async with tenant.api() as api:
        r = await api.post(f"/customer/jobs/{job}/executions/{devs[1]}/cancel", json={"force": True})
        assert r.status_code == 200 and r.json()["job_completed"] is True, r.text
    detail = await _get(tenant, f"/customer/jobs/{job}")
    assert detail["status"] == "COMPLETED" and detail["completed_at"]
    assert detail["counts"] == ZERO | {"failed": 1, "canceled": 1}


async def test_a_force_cancel_cut_short_is_finished_by_the_tick(
    tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs, job = await _job(tenant, 3, "fc")
    assert (await _put(tenant, devs[0], job, "IN_PROGRESS")).status_code == 200
    # the job was force-canceled, and the process died before its sweep
    async with tenant_tx(app_pool, tenant.tenant_id) as conn:
        assert await conn.fetchval(q.CANCEL_JOB, job, T0, "gone", "force", "DIED") == job
    result = await run_jobs_expiry_tick(app_pool, T0 + timedelta(minutes=1))
    assert result.canceled >= 3
    detail = await _get(tenant, f"/customer/jobs/{job}")
    assert detail["counts"] == ZERO | {"canceled": 3}
    by_dev = {e["device_id"]: e for e in detail["executions"]}
    assert by_dev[devs[0]]["status_details"] == {
        "reason": "job_canceled",
        "force": True,
        "reason_code": "DIED",
        "message": "gone",
    }
    assert await _events(tenant, job, devs[0]) == [
        ("device", "QUEUED", "IN_PROGRESS"),
        ("worker", "IN_PROGRESS", "CANCELED"),
    ]


@pytest.mark.parametrize("first", ["device", "cancel"])
async def test_force_cancel_and_a_device_finishing_on_one_execution(
    services: Services, tenant: Tenant, first: str
) -> None:
    """A transaction holds the contested execution's row lock while the first of the two queues behind it.
    A device first finishes its work and the force cancel leaves it alone; a cancel first cancels it and
    the device's update is refused with the current state."""
    devs, job = await _job(tenant, 2, "fr")
    contested = devs[0]
    assert (await _put(tenant, contested, job, "IN_PROGRESS")).status_code == 200
    admin = await connect(services.db.admin_url)
    holder = await connect(services.db.app_url)
    try:
        async with tenant.api() as api, tenant.device_api(contested) as device:

            def finish() -> Any:
                return device.put(f"/device/v1/jobs/{job}/execution", json={"status": "SUCCEEDED"})

            def cancel() -> Any:
                return api.post(f"/customer/jobs/{job}/cancel", json={"force": True})

            start = {"device": finish, "cancel": cancel}
            second = "cancel" if first == "device" else "device"
            tx = holder.transaction()
            await tx.start()
            await holder.execute(SET_TENANT, tenant.tenant_id)
            await holder.execute(
                "SELECT 1 FROM job_executions WHERE job_id = $1 AND device_id = $2 FOR UPDATE", job, contested
            )
            tasks: dict[str, asyncio.Task[httpx.Response]] = {}
            tasks[first] = asyncio.create_task(start[first]())
            await until_waiting(admin, services.db.name, 1, tasks[first])
            tasks[second] = asyncio.create_task(start[second]())
            await until_waiting(admin, services.db.name, 2, tasks[second])
            await tx.rollback()  # lets go: the first in line gets the row
            finished, canceled = await tasks["device"], await tasks["cancel"]
    finally:
        await holder.close()
        await admin.close()
    assert canceled.status_code == 200, canceled.text
    detail = await _get(tenant, f"/customer/jobs/{job}")
    assert detail["status"] == "CANCELED"
    if first == "device":
        assert finished.status_code == 200 and finished.json()["status"] == "SUCCEEDED", finished.text
        assert canceled.json()["canceled_executions"] == 1
        assert detail["counts"] == ZERO | {"succeeded": 1, "canceled": 1}
        assert (await _events(tenant, job, contested))[-1] == ("device", "IN_PROGRESS", "SUCCEEDED")
    else:
        assert finished.status_code == 409, finished.text
        assert finished.json()["current"]["status"] == "CANCELED"
        assert canceled.json()["canceled_executions"] == 2
        assert detail["counts"] == ZERO | {"canceled": 2}
        assert (await _events(tenant, job, contested))[-1] == ("operator", "IN_PROGRESS", "CANCELED")

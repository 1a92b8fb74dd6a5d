"""AWS DeleteJob and DeleteJobExecution over HTTP: `POST /customer/jobs/{id}/delete {"force"}` and
`POST /customer/jobs/{id}/executions/{device_id}/delete {"force", "execution_number"}`. Deleted rows are gone
from every list and read, history with them; counters stay equal to the real counts (every test ends with
the invariant checker over the whole database), also when deletion races devices' polls and updates."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from ops_worker.ticks import run_jobs_expiry_tick
from shared.infra.db import SET_TENANT, connect, tenant_tx
from shared.jobs.deletion import MARK_DELETING, delete_batches
from shared.jobs.states import COUNTER_COLUMNS
from tests.conftest import Services, Tenant, make_tenant
from tests.integration.reliability.invariants import check_all
from tests.support.locks import until_waiting

ZERO = dict.fromkeys(COUNTER_COLUMNS.values(), 0)
JOB_TABLES = ("jobs", "job_executions", "job_counters", "job_execution_events")


@pytest.fixture(autouse=True)
async def exact_after(services: Services) -> AsyncIterator[None]:
    """Counters, history chains, moves and completion are exact after each test."""
    yield
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()


@contextlib.contextmanager
def delete_batch(services: Services, n: int) -> Iterator[None]:
    services.ui.app.state.delete_batch = n
    try:
        yield
    finally:
        del services.ui.app.state.delete_batch


async def _job(tenant: Tenant, n: int, prefix: str) -> tuple[list[str], str]:
    devs = await tenant.create_devices(n, prefix=prefix)
    await tenant.create_group(prefix, devs)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"document_type": "fw", "target_group_id": prefix, "job_id": prefix}
        )
        assert r.status_code == 201, r.text
    return devs, prefix


async def _put(tenant: Tenant, dev: str, job: str, status: str) -> httpx.Response:
    async with tenant.device_api(dev) as d:
        return await d.put(f"/device/v1/jobs/{job}/execution", json={"status": status})


async def _get(tenant: Tenant, path: str) -> Any:
    async with tenant.api() as api:
        r = await api.get(path)
        assert r.status_code == 200, r.text
        return r.json()


async def _rows(services: Services, tenant: Tenant, job: str) -> dict[str, int]:
    """Rows of the job in each jobs table, read as the owner (past RLS and any filter of the API)."""
    owner = await connect(services.db.owner_url)
    try:
        return {
            t: int(
                await owner.fetchval(
                    f"SELECT count(*) FROM {t} WHERE tenant_id = $1 AND job_id = $2", tenant.tenant_id, job
                )
            )
            for t in JOB_TABLES
        }
    finally:
        await owner.close()


async def _audit(tenant: Tenant, action: str) -> list[dict[str, Any]]:
    return list((await _get(tenant, f"/customer/audit?action={action}"))["entries"])


async def test_a_running_job_needs_force_then_is_gone_everywhere(services: Services, tenant: Tenant) -> None:
    devs, job = await _job(tenant, 3, "dj")
    assert (await _put(tenant, devs[0], job, "IN_PROGRESS")).status_code == 200
    before = await _get(tenant, f"/customer/jobs/{job}")
    async with tenant.api() as api:
        r = await api.post(f"/customer/jobs/{job}/delete")
        assert r.status_code == 409, r.text
        assert r.json()["reason"] == "not_forced" and r.json()["status"] == "IN_PROGRESS"
        assert r.json()["counts"] == ZERO | {"queued": 2, "in_progress": 1}
        r = await api.post(f"/customer/jobs/{job}/delete", json={"force": False})
        assert r.status_code == 409, r.text
        # bad bodies: refused, nothing changed
        for bad in ({"force": "yes"}, {"force": 1}, {"purge": True}, [True]):
            assert (await api.post(f"/customer/jobs/{job}/delete", json=bad)).status_code == 422, bad
    after = await _get(tenant, f"/customer/jobs/{job}")
    assert after == before
    assert await _audit(tenant, "job.deleted") == []

    async with tenant.api() as api:
        r = await api.post(f"/customer/jobs/{job}/delete", json={"force": True})
        assert r.status_code == 200, r.text
        assert r.json() == {"job_id": job, "force": True, "deleted_executions": 3, "delete_complete": True}
        assert (await api.get(f"/customer/jobs/{job}")).status_code == 404
        assert (await api.get(f"/customer/jobs/{job}/executions")).status_code == 404
        assert (await api.get(f"/customer/jobs/{job}/executions/{devs[0]}/events")).status_code == 404
        assert job not in [j["job_id"] for j in (await api.get("/customer/jobs")).json()["jobs"]]
        dev_jobs = (await api.get(f"/customer/devices/{devs[0]}/jobs")).json()
        assert dev_jobs["executions"] == [] and dev_jobs["total"] == 0
        # gone: a second delete, a cancel, a cancel of one execution find nothing
        assert (await api.post(f"/customer/jobs/{job}/delete", json={"force": True})).status_code == 404
        assert (await api.post(f"/customer/jobs/{job}/cancel")).status_code == 404
        assert (await api.delete(f"/customer/jobs/{job}")).status_code == 404
        assert (await api.post(f"/customer/jobs/{job}/executions/{devs[1]}/cancel")).status_code == 404
    async with tenant.device_api(devs[0]) as d:
        assert (await d.get("/device/v1/jobs/pending")).json()["jobs"] == []
        assert (await d.get(f"/device/v1/jobs/{job}/execution")).status_code == 404
        assert (
            await d.put(f"/device/v1/jobs/{job}/execution", json={"status": "SUCCEEDED"})
        ).status_code == 404
    assert await _rows(services, tenant, job) == dict.fromkeys(JOB_TABLES, 0)
    [entry] = await _audit(tenant, "job.deleted")
    assert (entry["target_type"], entry["target_id"], entry["details"]) == ("job", job, {"force": True})
    # the id is free again
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"job_id": job, "document_type": "fw", "target_all": True})
        assert r.status_code == 201, r.text


async def test_finished_and_canceled_jobs_need_no_force(tenant: Tenant) -> None:
    devs, job = await _job(tenant, 2, "df")
    for dev in devs:
        assert (await _put(tenant, dev, job, "IN_PROGRESS")).status_code == 200
        assert (await _put(tenant, dev, job, "SUCCEEDED")).status_code == 200
    _, canceled = await _job(tenant, 2, "dc")
    async with tenant.api() as api:
        assert (await api.delete(f"/customer/jobs/{canceled}")).status_code == 200
        for j in (job, canceled):
            r = await api.post(f"/customer/jobs/{j}/delete")
            assert r.status_code == 200 and r.json()["delete_complete"] is True, r.text
            assert r.json()["deleted_executions"] == 2
        assert (await api.post("/customer/jobs/ghost/delete")).status_code == 404


async def test_a_viewer_may_not_delete(services: Services, tenant: Tenant) -> None:
    devs, job = await _job(tenant, 1, "dv")
    viewer = await make_tenant(services, role="viewer", tenant_id=tenant.tenant_id)
    async with viewer.api() as api:
        assert (await api.post(f"/customer/jobs/{job}/delete", json={"force": True})).status_code == 403
        r = await api.post(f"/customer/jobs/{job}/executions/{devs[0]}/delete", json={"force": True})
        assert r.status_code == 403
    assert (await _get(tenant, f"/customer/jobs/{job}"))["execution_count"] == 1


async def test_another_tenant_cannot_delete(services: Services, tenant: Tenant, other_tenant: Tenant) -> None:
    devs, job = await _job(tenant, 1, "dw")
    async with other_tenant.api() as api:
        assert (await api.post(f"/customer/jobs/{job}/delete", json={"force": True})).status_code == 404
        r = await api.post(f"/customer/jobs/{job}/executions/{devs[0]}/delete", json={"force": True})
        assert r.status_code == 404
    assert (await _get(tenant, f"/customer/jobs/{job}"))["execution_count"] == 1
    assert (await _rows(services, tenant, job))["job_executions"] == 1


async def test_delete_one_execution(services: Services, tenant: Tenant) -> None:
    devs, job = await _job(tenant, 4, "de")
    base = f"/customer/jobs/{job}/executions"
    assert (await _put(tenant, devs[0], job, "IN_PROGRESS")).status_code == 200
    assert (await _put(tenant, devs[0], job, "SUCCEEDED")).status_code == 200
    assert (await _put(tenant, devs[1], job, "IN_PROGRESS")).status_code == 200
    async with tenant.api() as api:
        # a terminal execution: no force needed; its history goes with it
        r = await api.post(f"{base}/{devs[0]}/delete")
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["execution_number"], body["job_completed"]) == ("SUCCEEDED", 3, False)
        assert (await api.get(f"{base}/{devs[0]}/events")).status_code == 404
        assert (await api.post(f"{base}/{devs[0]}/delete")).status_code == 404
        # active ones need force; execution_number must match when given
        r = await api.post(f"{base}/{devs[1]}/delete", json={"force": False})
        assert r.status_code == 409 and r.json()["reason"] == "not_forced", r.text
        assert r.json()["current"]["status"] == "IN_PROGRESS"
        r = await api.post(f"{base}/{devs[2]}/delete")
        assert r.status_code == 409 and r.json()["current"]["status"] == "QUEUED", r.text
        r = await api.post(f"{base}/{devs[1]}/delete", json={"force": True, "execution_number": 1})
        assert r.status_code == 409 and r.json()["reason"] == "version_mismatch", r.text
        assert r.json()["current"]["execution_number"] == 2
        for bad in ({"force": "true"}, {"execution_number": 0}, {"execution_number": "2"}, {"x": 1}):
            assert (await api.post(f"{base}/{devs[1]}/delete", json=bad)).status_code == 422, bad
        assert (await api.post(f"{base}/ghost/delete", json={"force": True})).status_code == 404
        assert (await api.post(f"/customer/jobs/ghost/executions/{devs[1]}/delete")).status_code == 404
    job_now = await _get(tenant, f"/customer/jobs/{job}")
    assert job_now["execution_count"] == 3 and job_now["status"] == "IN_PROGRESS"
    assert job_now["counts"] == ZERO | {"queued": 2, "in_progress": 1}
    assert [e["device_id"] for e in job_now["executions"]] == devs[1:]
    async with tenant.device_api(devs[0]) as d:
        assert (await d.get(f"/device/v1/jobs/{job}/execution")).status_code == 404
    # forced: the device's next update finds nothing; deleting the last active one completes the job
    async with tenant.api() as api:
        r = await api.post(f"{base}/{devs[1]}/delete", json={"force": True, "execution_number": 2})
        assert r.status_code == 200 and r.json()["job_completed"] is False, r.text
    assert (await _put(tenant, devs[1], job, "SUCCEEDED")).status_code == 404
    assert (await _put(tenant, devs[2], job, "IN_PROGRESS")).status_code == 200
    assert (await _put(tenant, devs[2], job, "FAILED")).status_code == 200
    async with tenant.api() as api:
        r = await api.post(f"{base}/{devs[3]}/delete", json={"force": True})
        assert r.status_code == 200 and r.json()["job_completed"] is True, r.text
    job_now = await _get(tenant, f"/customer/jobs/{job}")
    assert job_now["status"] == "COMPLETED" and job_now["execution_count"] == 1
    assert job_now["counts"] == ZERO | {"failed": 1}
    rows = await _rows(services, tenant, job)
    assert rows["job_executions"] == 1 and rows["job_execution_events"] == 2  # devs[2]'s claim and failure
    entries = await _audit(tenant, "execution.deleted")
    assert [e["target_id"] for e in entries] == [f"{job}/{d}" for d in (devs[3], devs[1], devs[0])]
    assert entries[0]["details"] == {"force": True, "status": "QUEUED", "execution_number": 1}


@pytest.mark.parametrize("first", ["device", "delete"])
async def test_a_device_update_and_an_execution_delete_meet_on_one_row(
    services: Services, tenant: Tenant, first: str
) -> None:
    """Forced interleaving: a transaction holds the row lock while the first of them queues behind it. A
    device's update first is deleted with its new status (and counted so); a delete first leaves the device
    a 404."""
    devs, job = await _job(tenant, 2, f"dr{first[:2]}")
    contested = devs[0]
    assert (await _put(tenant, contested, job, "IN_PROGRESS")).status_code == 200
    admin = await connect(services.db.admin_url)
    holder = await connect(services.db.app_url)
    try:
        async with tenant.api() as api, tenant.device_api(contested) as device:
            start = {
                "device": lambda: device.put(f"/device/v1/jobs/{job}/execution", json={"status": "SUCCEEDED"}),
                "delete": lambda: api.post(f"/customer/jobs/{job}/executions/{contested}/delete",
                                           json={"force": True}),
            }  # fmt: skip
            second = "delete" if first == "device" else "device"
            tx = holder.transaction()
            await tx.start()
            await holder.execute(SET_TENANT, tenant.tenant_id)
            await holder.execute(
                "SELECT 1 FROM job_executions WHERE job_id = $1 AND device_id = $2 FOR UPDATE", job, contested
            )
            tasks = {first: asyncio.create_task(start[first]())}
            await until_waiting(admin, services.db.name, 1, tasks[first])
            tasks[second] = asyncio.create_task(start[second]())
            await until_waiting(admin, services.db.name, 2, tasks[second])
            await tx.rollback()
            updated, deleted = await tasks["device"], await tasks["delete"]
    finally:
        await holder.close()
        await admin.close()
    assert deleted.status_code == 200, deleted.text
    if first == "device":
        assert updated.status_code == 200, updated.text
        assert deleted.json()["status"] == "SUCCEEDED"  # what it deleted: the row as the device left it
    else:
        assert updated.status_code == 404, updated.text
        assert deleted.json()["status"] == "IN_PROGRESS"
    job_now = await _get(tenant, f"/customer/jobs/{job}")
    assert job_now["counts"] == ZERO | {"queued": 1} and job_now["execution_count"] == 1


async def test_a_job_is_deleted_in_batches(services: Services, tenant: Tenant) -> None:
    devs, job = await _job(tenant, 23, "db")
    for dev in devs[:5]:
        assert (await _put(tenant, dev, job, "IN_PROGRESS")).status_code == 200
    for dev in devs[:2]:
        assert (await _put(tenant, dev, job, "SUCCEEDED")).status_code == 200
    with delete_batch(services, 4):
        async with tenant.api() as api:
            r = await api.post(f"/customer/jobs/{job}/delete", json={"force": True})
            assert r.status_code == 200, r.text
            assert r.json()["deleted_executions"] == 23 and r.json()["delete_complete"] is True
    assert await _rows(services, tenant, job) == dict.fromkeys(JOB_TABLES, 0)


async def test_a_deletion_cut_short_is_hidden_at_once_and_finished_by_the_tick(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs, job = await _job(tenant, 10, "dt")
    async with tenant.api() as api:  # canceled: every execution REJECTED, the job needs no force
        assert (await api.delete(f"/customer/jobs/{job}")).status_code == 200
    async with tenant_tx(app_pool, tenant.tenant_id) as conn:
        now = await conn.fetchval("SELECT now()")
        assert await conn.fetchval(MARK_DELETING, job, now, False) == job
        # one batch of 3, as a request cut short after its first batch would leave it
        row = await conn.fetchrow("SELECT * FROM iotcloud.delete_job_batch($1, $2, '', 3)", now, job)
        assert (row["deleted"], row["done"], row["last_device_id"]) == (3, False, devs[2])
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)  # counters equal the real counts half way
        assert await owner.fetchval("SELECT execution_count FROM jobs WHERE job_id = $1 AND tenant_id = $2",
                                    job, tenant.tenant_id) == 7  # fmt: skip
    finally:
        await owner.close()
    async with tenant.api() as api:
        assert (await api.get(f"/customer/jobs/{job}")).status_code == 404
        assert job not in [j["job_id"] for j in (await api.get("/customer/jobs")).json()["jobs"]]
        assert (await api.get(f"/customer/devices/{devs[5]}/jobs")).json()["total"] == 0
    await run_jobs_expiry_tick(app_pool, now)
    assert await _rows(services, tenant, job) == dict.fromkeys(JOB_TABLES, 0)


async def test_delete_batches_are_bounded(services: Services, tenant: Tenant, app_pool: asyncpg.Pool) -> None:
    _, job = await _job(tenant, 10, "dk")
    async with tenant_tx(app_pool, tenant.tenant_id) as conn:
        now = await conn.fetchval("SELECT now()")
        assert await conn.fetchval(MARK_DELETING, job, now, True) == job
    result = await delete_batches(app_pool, tenant.tenant_id, job, now, 3)
    assert (result.deleted, result.batches, result.done) == (10, 4, True)  # 3 + 3 + 3 + 1


async def test_deleting_a_job_while_its_devices_poll_and_update(services: Services, tenant: Tenant) -> None:
    """Devices claim and finish their work while the job is force-deleted in small batches: every answer is
    200, 404 or 409, never a 5xx; the job ends gone, and the invariant checker finds every other counter
    exact and no history left behind."""
    devs, job = await _job(tenant, 24, "dp")
    _, other = await _job(tenant, 4, "dq")  # a neighbour job of the same devices' tenant, left alone
    statuses: list[int] = []

    async def device_loop(dev: str) -> None:
        async with tenant.device_api(dev) as d:
            for target in ("IN_PROGRESS", "SUCCEEDED"):
                r = await d.get("/device/v1/jobs/pending")
                statuses.append(r.status_code)
                r = await d.put(f"/device/v1/jobs/{job}/execution", json={"status": target})
                statuses.append(r.status_code)

    with delete_batch(services, 3):
        async with tenant.api() as api:
            tasks = [asyncio.create_task(device_loop(d)) for d in devs]
            await asyncio.sleep(0.05)
            r = await api.post(f"/customer/jobs/{job}/delete", json={"force": True})
            await asyncio.gather(*tasks)
    assert r.status_code == 200, r.text
    assert r.json()["delete_complete"] is True
    assert set(statuses) <= {200, 404, 409}, statuses
    assert await _rows(services, tenant, job) == dict.fromkeys(JOB_TABLES, 0)
    assert (await _get(tenant, f"/customer/jobs/{other}"))["counts"] == ZERO | {"queued": 4}


async def test_deleting_executions_while_devices_update_them(services: Services, tenant: Tenant) -> None:
    """Each execution deleted (forced) while its device claims and finishes it: whichever wins, the job's
    counters end equal to the real counts (checked after the test) and no answer is a 5xx."""
    devs, job = await _job(tenant, 16, "dx")
    statuses: list[int] = []

    async def device(dev: str) -> None:
        for target in ("IN_PROGRESS", "SUCCEEDED"):
            statuses.append((await _put(tenant, dev, job, target)).status_code)

    async def operator(dev: str) -> None:
        async with tenant.api() as api:
            r = await api.post(f"/customer/jobs/{job}/executions/{dev}/delete", json={"force": True})
            statuses.append(r.status_code)

    await asyncio.gather(*(f(d) for d in devs for f in (device, operator)))
    assert set(statuses) <= {200, 404, 409}, statuses
    job_now = await _get(tenant, f"/customer/jobs/{job}")
    assert job_now["execution_count"] == 0 and job_now["status"] == "COMPLETED"


async def test_the_history_definer_deletes_only_history_of_gone_executions_of_the_callers_tenant(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    """iotcloud.delete_history runs as the owner, past RLS: it must not reach another tenant's history, nor
    the history of an execution that still exists."""
    devs, job = await _job(tenant, 1, "dh")
    theirs, their_job = await _job(other_tenant, 1, "dh")  # the same job and device ids, another tenant
    assert (await _put(tenant, devs[0], job, "IN_PROGRESS")).status_code == 200
    assert (await _put(other_tenant, theirs[0], their_job, "IN_PROGRESS")).status_code == 200
    app = await connect(services.db.app_url)
    try:
        with pytest.raises(asyncpg.UndefinedObjectError):  # no tenant set at all: refused outright
            await app.fetchval("SELECT iotcloud.delete_history($1, $2)", job, devs)
        tx = app.transaction()
        await tx.start()
        await app.execute(SET_TENANT, tenant.tenant_id)
        # our execution exists: its history stays
        assert await app.fetchval("SELECT iotcloud.delete_history($1, $2)", job, devs) == 0
        # once it is gone, its history goes: ours only, not the other tenant's of the same ids
        await app.execute("DELETE FROM job_executions WHERE job_id = $1", job)
        assert await app.fetchval("SELECT iotcloud.delete_history($1, $2)", job, devs) == 1
        await tx.rollback()  # the test leaves everything as it was
    finally:
        await app.close()
    assert (await _rows(services, other_tenant, their_job))["job_execution_events"] == 1
    assert (await _rows(services, tenant, job))["job_execution_events"] == 1

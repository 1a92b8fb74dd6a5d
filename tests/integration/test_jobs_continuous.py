"""Continuous jobs (AWS targetSelection CONTINUOUS) over HTTP: devices joining the group (or, for the fleet,
created) get a QUEUED execution in the transaction of the change; devices leaving it (removed, group deleted,
revoked) have their QUEUED execution moved to REMOVED; the job runs until canceled. Every test ends with the
invariant checker (counters equal real counts, execution_count, history and moves) over the whole database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shared.infra.db import connect, tenant_tx
from tests.conftest import Services, Tenant
from tests.integration.reliability.invariants import check_all


@pytest.fixture(autouse=True)
async def exact_after(services: Services) -> AsyncIterator[None]:
    yield
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()


async def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def _job(api: httpx.AsyncClient, **target: Any) -> dict[str, Any]:
    body = {"document_type": "fw", "target_selection": "CONTINUOUS", **target}
    return await _ok(await api.post("/customer/jobs", json=body), 201)  # type: ignore[no-any-return]


async def _executions(api: httpx.AsyncClient, job: str) -> dict[str, str]:
    page = await _ok(await api.get(f"/customer/jobs/{job}/executions", params={"limit": 500}))
    return {e["device_id"]: e["status"] for e in page["executions"]}


async def test_continuous_group_job_follows_membership(tenant: Tenant) -> None:
    devs = await tenant.create_devices(4, prefix="cg")
    await tenant.create_group("cg", [])
    async with tenant.api() as api:
        job = await _job(api, target_group_id="cg")  # no member yet: allowed for a continuous job
        assert (job["target_selection"], job["status"], job["execution_count"]) == (
            "CONTINUOUS",
            "IN_PROGRESS",
            0,
        )
        snap = await _ok(
            await api.post("/customer/jobs", json={"document_type": "fw", "target_group_id": "cg"}), 400
        )
        assert "at least one device" in snap["detail"]

        added = await _ok(await api.post("/customer/groups/cg/members", json={"device_ids": devs[:3]}))
        assert added == {"group_id": "cg", "added": 3, "queued_executions": 3}
        assert await _executions(api, job["job_id"]) == dict.fromkeys(devs[:3], "QUEUED")

        # adding again (and a new one): only the new one gets an execution
        added = await _ok(await api.post("/customer/groups/cg/members", json={"device_ids": devs}))
        assert added == {"group_id": "cg", "added": 1, "queued_executions": 1}

        # the device finishes its work: the job stays IN_PROGRESS even with no active execution left
        for d in devs:
            async with tenant.device_api(d) as dev:
                await _ok(
                    await dev.put(
                        f"/device/v1/jobs/{job['job_id']}/execution", json={"status": "IN_PROGRESS"}
                    )
                )
                if d != devs[3]:
                    await _ok(
                        await dev.put(
                            f"/device/v1/jobs/{job['job_id']}/execution", json={"status": "SUCCEEDED"}
                        )
                    )
        async with tenant.device_api(devs[3]) as dev:
            await _ok(await dev.put(f"/device/v1/jobs/{job['job_id']}/execution", json={"status": "FAILED"}))
        got = await _ok(await api.get(f"/customer/jobs/{job['job_id']}"))
        assert got["status"] == "IN_PROGRESS" and got["completed_at"] is None
        assert got["counts"]["succeeded"] == 3 and got["counts"]["failed"] == 1

        # a new member after all that: new work for the still-running job
        more = await tenant.create_devices(1, prefix="cg-late")
        await _ok(await api.post("/customer/groups/cg/members", json={"device_ids": more}))
        assert (await _executions(api, job["job_id"]))[more[0]] == "QUEUED"

        # canceled: no more executions for new members
        await _ok(await api.post(f"/customer/jobs/{job['job_id']}/cancel", json={}))
        late = await tenant.create_devices(1, prefix="cg-after")
        added = await _ok(await api.post("/customer/groups/cg/members", json={"device_ids": late}))
        assert added["queued_executions"] == 0
        assert late[0] not in await _executions(api, job["job_id"])


async def test_removal_revocation_and_group_deletion_move_queued_work_to_removed(tenant: Tenant) -> None:
    devs = await tenant.create_devices(5, prefix="rm")
    await tenant.create_group("rm", devs)
    async with tenant.api() as api:
        job = (await _job(api, target_group_id="rm"))["job_id"]
        snapshot = await _ok(
            await api.post("/customer/jobs", json={"document_type": "fw", "target_group_id": "rm"}), 201
        )
        # devs[0] started its work: removing it leaves that alone (it may finish)
        async with tenant.device_api(devs[0]) as d:
            await _ok(await d.put(f"/device/v1/jobs/{job}/execution", json={"status": "IN_PROGRESS"}))
        for dev in devs[:2]:
            await _ok(await api.delete(f"/customer/groups/rm/members/{dev}"), 204)
        await _ok(await api.post(f"/customer/devices/{devs[2]}/revoke"))
        execs = await _executions(api, job)
        assert execs == {
            devs[0]: "IN_PROGRESS",
            devs[1]: "REMOVED",
            devs[2]: "REMOVED",
            devs[3]: "QUEUED",
            devs[4]: "QUEUED",
        }
        async with tenant.device_api(devs[1]) as d:
            late = await d.put(f"/device/v1/jobs/{job}/execution", json={"status": "IN_PROGRESS"})
            assert late.status_code == 409, late.text
            assert (late.json()["reason"], late.json()["current"]["status"]) == ("not_allowed", "REMOVED")
            assert "left the job's target" in late.json()["detail"]
        events = await _ok(await api.get(f"/customer/jobs/{job}/executions/{devs[1]}/events"))
        (ev,) = events["events"]
        assert (ev["actor"], ev["from_status"], ev["to_status"]) == ("operator", "QUEUED", "REMOVED")
        assert ev["status_details"] == {"reason": "removed_from_group"}
        revoked = (await _ok(await api.get(f"/customer/jobs/{job}/executions/{devs[2]}/events")))["events"]
        assert revoked[0]["status_details"] == {"reason": "device_revoked"}
        # the snapshot job of the same group is untouched
        assert set((await _executions(api, snapshot["job_id"])).values()) == {"QUEUED"}

        # removed, then re-added: the job does not run again on it
        added = await _ok(await api.post("/customer/groups/rm/members", json={"device_ids": [devs[1]]}))
        assert added["queued_executions"] == 0

        await _ok(await api.delete("/customer/groups/rm"), 204)
        execs = await _executions(api, job)
        assert execs[devs[3]] == execs[devs[4]] == "REMOVED"
        got = await _ok(await api.get(f"/customer/jobs/{job}"))
        assert got["status"] == "IN_PROGRESS"
        assert got["counts"]["removed"] == 4 and got["counts"]["in_progress"] == 1


async def test_continuous_fleet_job_covers_created_devices_and_not_one_device(tenant: Tenant) -> None:
    first = await tenant.create_devices(2, prefix="fl")
    async with tenant.api() as api:
        bad = await _ok(
            await api.post(
                "/customer/jobs",
                json={"document_type": "fw", "target_selection": "CONTINUOUS", "target_device_id": first[0]},
            ),
            400,
        )
        assert "not one device" in bad["detail"]
        bad = await _ok(
            await api.post(
                "/customer/jobs",
                json={"document_type": "fw", "target_selection": "SOMETIMES", "target_all": True},
            ),
            422,
        )
        job = await _job(api, target_all=True)
        assert job["execution_count"] == 2 and job["target"] == {"type": "all", "id": None}
        later = await tenant.create_devices(3, prefix="fl-new")
        assert await _executions(api, job["job_id"]) == dict.fromkeys(first + later, "QUEUED")
        await _ok(await api.post(f"/customer/devices/{later[0]}/revoke"))
        assert (await _executions(api, job["job_id"]))[later[0]] == "REMOVED"
        listed = await _ok(await api.get("/customer/jobs"))
        assert listed["jobs"][0]["target_selection"] == "CONTINUOUS"


async def test_ten_thousand_devices_join_in_one_call(services: Services, tenant: Tenant) -> None:
    n = 10_000
    async with tenant.api() as api:
        await _ok(await api.post("/customer/groups", json={"group_id": "big", "name": "big"}), 201)
        jobs = [(await _job(api, target_group_id="big"))["job_id"] for _ in range(2)]
    # the devices themselves are set up in SQL: only their joining the group is under test
    pool_conn = await connect(services.db.app_url)
    try:
        async with pool_conn.transaction():
            await pool_conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant.tenant_id)
            await pool_conn.execute(
                "INSERT INTO device_state (tenant_id, device_id, token_hash) "
                "SELECT $1, 'big-' || lpad(i::text, 5, '0'), md5($1 || i) FROM generate_series(1, $2) i",
                tenant.tenant_id,
                n,
            )
    finally:
        await pool_conn.close()
    ids = [f"big-{i:05d}" for i in range(1, n + 1)]
    async with tenant.api() as api:
        started = time.perf_counter()
        added = await _ok(await api.post("/customer/groups/big/members", json={"device_ids": ids}))
        elapsed = time.perf_counter() - started
        assert added == {"group_id": "big", "added": n, "queued_executions": 2 * n}
        for job in jobs:
            got = await _ok(await api.get(f"/customer/jobs/{job}"))
            assert got["execution_count"] == n and got["counts"]["queued"] == n
    print(f"10,000 devices joined a group with 2 continuous jobs in {elapsed:.2f}s")


async def _race_once(tenant: Tenant, i: int, target: str) -> None:
    """A device joins the target while a continuous job on it is created, both at once."""
    job_body: dict[str, Any]
    async with tenant.api() as api:
        if target == "group":
            dev = (await tenant.create_devices(1, prefix=f"race{i}"))[0]
            await _ok(await api.post("/customer/groups", json={"group_id": f"race{i}", "name": "r"}), 201)
            job_body = {
                "document_type": "fw",
                "target_selection": "CONTINUOUS",
                "target_group_id": f"race{i}",
            }
            join = api.post(f"/customer/groups/race{i}/members", json={"device_ids": [dev]})
        else:
            dev = f"race-fleet-{i}"
            job_body = {
                "document_type": "fw",
                "target_selection": "CONTINUOUS",
                "target_all": True,
                "job_id": f"race-fleet-{i}",
            }
            join = api.post("/customer/devices", json={"device_id": dev})
        created, joined = await asyncio.gather(api.post("/customer/jobs", json=job_body), join)
        job = (await _ok(created, 201))["job_id"]
        assert joined.status_code in (200, 201), joined.text
        execs = await _executions(api, job)
        assert list(execs.values()).count("QUEUED") >= 1 and dev in execs, (i, target, execs)


@pytest.mark.parametrize("target", ["group", "fleet"])
async def test_join_while_the_job_is_created_ends_with_exactly_one_execution(
    services: Services, tenant: Tenant, target: str
) -> None:
    for batch in range(4):
        await asyncio.gather(*(_race_once(tenant, batch * 5 + k, target) for k in range(5)))
    # exactly one execution per (job, device), and every device of the target has one in every job
    async with tenant_tx(services.ui.app.state.pool, tenant.tenant_id) as conn:
        if target == "group":
            missing = await conn.fetchval(
                "SELECT count(*) FROM jobs j JOIN device_group_members m ON m.group_id = j.target_group_id "
                "WHERE NOT EXISTS (SELECT 1 FROM job_executions e WHERE e.job_id = j.job_id "
                "AND e.device_id = m.device_id)"
            )
        else:
            missing = await conn.fetchval(
                "SELECT count(*) FROM jobs j CROSS JOIN device_state d WHERE NOT EXISTS "
                "(SELECT 1 FROM job_executions e WHERE e.job_id = j.job_id AND e.device_id = d.device_id)"
            )
        assert missing == 0
        assert await conn.fetchval("SELECT count(*) FROM jobs") == 20


async def test_membership_changes_racing_device_updates_keep_counters_exact(tenant: Tenant) -> None:
    """Devices claim and finish their work while members are added and removed at the same time: every
    counter equals the real counts afterwards (the autouse invariant check), and each device ends as its
    last change says."""
    first = await tenant.create_devices(30, prefix="mix")
    later = await tenant.create_devices(60, prefix="mix-late")
    await tenant.create_group("mix", first)
    async with tenant.api() as api:
        job = (await _job(api, target_group_id="mix"))["job_id"]

        async def device_work(dev: str) -> None:
            async with tenant.device_api(dev) as d:
                for status in ("IN_PROGRESS", "SUCCEEDED"):
                    r = await d.put(f"/device/v1/jobs/{job}/execution", json={"status": status})
                    assert r.status_code in (200, 409), r.text  # 409: removed before it could start

        async def add(batch: list[str]) -> None:
            await _ok(await api.post("/customer/groups/mix/members", json={"device_ids": batch}))

        async def remove(dev: str) -> None:
            await _ok(await api.delete(f"/customer/groups/mix/members/{dev}"), 204)

        await asyncio.gather(
            *(device_work(d) for d in first),
            *(add(later[i : i + 10]) for i in range(0, 60, 10)),
            *(remove(d) for d in first[:10]),
        )
        execs = await _executions(api, job)
        assert set(execs) == set(first + later)
        assert all(execs[d] in ("SUCCEEDED", "REMOVED") for d in first[:10])
        assert all(execs[d] == "SUCCEEDED" for d in first[10:])
        assert all(execs[d] == "QUEUED" for d in later)
        got = await _ok(await api.get(f"/customer/jobs/{job}"))
        assert got["execution_count"] == 90 and got["counts"]["queued"] == 60


async def test_leave_while_the_job_is_created_leaves_no_queued_work(tenant: Tenant) -> None:
    """A member removed while a continuous job on its group is created: it ends with no execution (removed
    first) or a REMOVED one (created first), never QUEUED work for a device outside the group."""
    seen: set[str | None] = set()
    async with tenant.api() as api:
        for batch in range(4):
            devs = await tenant.create_devices(5, prefix=f"leave{batch}")

            async def once(batch: int, i: int, dev: str) -> None:
                group = f"leave{batch}-{i}"
                await tenant.create_group(group, [dev])
                body = {"document_type": "fw", "target_selection": "CONTINUOUS", "target_group_id": group}
                created, removed = await asyncio.gather(
                    api.post("/customer/jobs", json=body),
                    api.delete(f"/customer/groups/{group}/members/{dev}"),
                )
                job = (await _ok(created, 201))["job_id"]
                assert removed.status_code == 204, removed.text
                status = (await _executions(api, job)).get(dev)
                assert status in (None, "REMOVED"), (group, status)
                seen.add(status)

            await asyncio.gather(*(once(batch, i, d) for i, d in enumerate(devs)))
    print(f"outcomes seen: {seen}")

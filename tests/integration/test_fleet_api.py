"""Fleet work over real HTTP on real PostgreSQL: a selection of devices (listed ids or every device matching
the devices list's filters) added to a group or targeted by a job, and devices imported from a CSV file. Every
test ends with the jobs' invariant checker over the whole database."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shared.auth import token_hash
from shared.infra.db import connect
from shared.quotas import set_quotas
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
    return r.json()


async def _owner_fetch(services: Services, sql: str, *args: Any) -> list[dict[str, Any]]:
    owner = await connect(services.db.owner_url)
    try:
        return [dict(r) for r in await owner.fetch(sql, *args)]
    finally:
        await owner.close()


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


async def test_group_add_by_ids_and_by_filter(tenant: Tenant, other_tenant: Tenant) -> None:
    pumps = await tenant.create_devices(4, prefix="pump")
    valves = await tenant.create_devices(3, prefix="valve")
    theirs = await other_tenant.create_devices(1, prefix="pump-x")
    await tenant.create_group("g", [])
    await other_tenant.create_group("g", [])
    async with tenant.api() as api:
        # the existing body still works
        assert (await _ok(await api.post("/customer/groups/g/members", json={"device_ids": pumps[:1]})))[
            "added"
        ] == 1
        # all matching a filter: the 4 pumps (one already a member), not the valves
        r = await api.post("/customer/groups/g/members", json={"matching": {"q": "PUMP"}})
        assert (await _ok(r)) == {"group_id": "g", "added": 3, "queued_executions": 0}
        await api.post(f"/customer/devices/{valves[0]}/revoke")
        r = await api.post("/customer/groups/g/members", json={"matching": {"status": "REVOKED"}})
        assert (await _ok(r))["added"] == 1
        detail = await _ok(await api.get("/customer/groups/g"))
        assert sorted(m["device_id"] for m in detail["members"]) == sorted([*pumps, valves[0]])
        # bad input: both, neither, an empty list, a bad status, an unknown group: 4xx and nothing changes
        for body in (
            {"device_ids": pumps, "matching": {}},
            {},
            {"device_ids": []},
            {"matching": {"status": "LOST"}},
            {"matching": {"q": "x" * 101}},
            {"matching": {"q": 5}},
        ):
            assert (await api.post("/customer/groups/g/members", json=body)).status_code == 422, body
        assert (await api.post("/customer/groups/nope/members", json={"matching": {}})).status_code == 404
        # another tenant's device id is unknown here: 400 naming it, nothing added
        r = await api.post("/customer/groups/g/members", json={"device_ids": [valves[1], *theirs]})
        assert r.status_code == 400 and r.json()["unknown_device_ids"] == theirs
        assert (await _ok(await api.get("/customer/groups/g")))["member_count"] == 5
    # matching everything never reaches the other tenant's devices or group
    async with other_tenant.api() as api:
        assert (await _ok(await api.get("/customer/groups/g")))["member_count"] == 0
    async with tenant.api() as api:
        assert (await _ok(await api.post("/customer/groups/g/members", json={"matching": {}})))["added"] == 2
    # (the database is shared with other tests' tenants: look at these two tenants' groups "g" only)
    rows = await _owner_fetch(
        tenant.services,
        "SELECT tenant_id, device_id FROM device_group_members"
        " WHERE group_id = 'g' AND tenant_id = ANY($1::text[]) ORDER BY device_id",
        [tenant.tenant_id, other_tenant.tenant_id],
    )
    assert {r["tenant_id"] for r in rows} == {tenant.tenant_id} and len(rows) == 7


async def test_group_add_matching_joins_continuous_jobs(tenant: Tenant) -> None:
    devs = await tenant.create_devices(3, prefix="cam")
    await tenant.create_group("g", [])
    async with tenant.api() as api:
        body = {"document_type": "fw", "target_group_id": "g", "target_selection": "CONTINUOUS"}
        job = await _ok(await api.post("/customer/jobs", json=body), 201)
        r = await api.post("/customer/groups/g/members", json={"matching": {"q": "cam"}})
        assert (await _ok(r))["queued_executions"] == 3
        got = await _ok(await api.get(f"/customer/jobs/{job['job_id']}"))
        assert sorted(e["device_id"] for e in got["executions"]) == devs


async def test_job_for_listed_devices(tenant: Tenant, other_tenant: Tenant) -> None:
    devs = await tenant.create_devices(5, prefix="s")
    theirs = await other_tenant.create_devices(1, prefix="other")
    async with tenant.api() as api:
        await api.post(f"/customer/devices/{devs[4]}/revoke")
        body = {"document_type": "fw", "target_devices": {"device_ids": [devs[0], devs[2], devs[4], devs[0]]}}
        job = await _ok(await api.post("/customer/jobs", json=body), 201)
        assert job["target"] == {"type": "devices", "id": None}
        assert job["target_devices"] == {"device_count": 3}
        # the revoked device is not targeted; a repeated id once
        assert job["execution_count"] == 2 and job["counts"]["queued"] == 2
        executions = await _ok(await api.get(f"/customer/jobs/{job['job_id']}/executions"))
        assert [e["device_id"] for e in executions["executions"]] == [devs[0], devs[2]]
        # rollout ranks 1..n, all released, as for the other targets
        rows = await _owner_fetch(
            tenant.services,
            "SELECT e.rollout_rank, j.ranked, j.released_upto FROM job_executions e JOIN jobs j USING "
            "(tenant_id, job_id) WHERE e.job_id = $1 ORDER BY e.rollout_rank",
            job["job_id"],
        )
        assert [r["rollout_rank"] for r in rows] == [1, 2] and {r["released_upto"] for r in rows} == {2}
        # the device sees its execution
        async with tenant.device_api(devs[0]) as dev:
            pending = await _ok(await dev.get("/device/v1/jobs/pending"))
            assert job["job_id"] in str(pending)
        # bad input: 4xx, and no job is created
        before = (await _ok(await api.get("/customer/jobs")))["total"]
        cases: list[tuple[dict[str, Any], int]] = [
            ({"target_devices": {"device_ids": [devs[0], "ghost"]}}, 400),
            ({"target_devices": {"device_ids": theirs}}, 400),  # another tenant's: unknown here
            ({"target_devices": {"device_ids": [devs[4]]}}, 400),  # only a revoked device
            ({"target_devices": {"device_ids": devs[:1]}, "target_all": True}, 400),
            ({"target_devices": {"device_ids": devs[:1]}, "target_group_id": "g"}, 400),
            ({"target_devices": {}}, 422),
            ({"target_devices": {"device_ids": ["s"] * 10_001}}, 422),
            ({"target_devices": {"device_ids": devs[:1]}, "target_selection": "CONTINUOUS"}, 400),
        ]
        for extra, status in cases:
            r = await api.post("/customer/jobs", json={"document_type": "fw", **extra})
            assert r.status_code == status, (extra, r.text)
        r = await api.post(
            "/customer/jobs", json={"document_type": "fw", "target_devices": {"device_ids": ["x", "ghost"]}}
        )
        assert r.json()["unknown_device_ids"] == ["ghost", "x"]
        assert (await _ok(await api.get("/customer/jobs")))["total"] == before
        audit = await _ok(await api.get("/customer/audit", params={"action": "job.created"}))
        assert any(a["target_id"] == job["job_id"] for a in audit["entries"])
    async with other_tenant.api() as api:
        assert (await _ok(await api.get(f"/customer/devices/{theirs[0]}/jobs")))["total"] == 0


async def test_job_for_matching_devices_with_rollout_and_quota(tenant: Tenant, services: Services) -> None:
    await tenant.create_devices(6, prefix="north")
    await tenant.create_devices(2, prefix="south")
    async with tenant.api() as api:
        body = {
            "document_type": "fw",
            "target_devices": {"matching": {"q": "north", "status": "ACTIVE"}},
            "rollout_config": {"maximum_per_minute": 2},
        }
        job = await _ok(await api.post("/customer/jobs", json=body), 201)
        assert job["target_devices"] == {"matching": {"q": "north", "status": "ACTIVE"}}
        assert job["execution_count"] == 6
        nobody = {"document_type": "fw", "target_devices": {"matching": {"q": "east"}}}
        r = await api.post("/customer/jobs", json=nobody)
        assert r.status_code == 400 and "no active devices" in r.json()["detail"]
        owner = await connect(services.db.owner_url)
        try:
            await set_quotas(owner, tenant.tenant_id, {"executions_per_job": 5})
        finally:
            await owner.close()
        over = {"document_type": "fw", "target_devices": {"matching": {}}}
        r = await api.post("/customer/jobs", json=over)
        assert r.status_code == 403 and r.json()["quota"] == "executions_per_job"
        assert (await _ok(await api.get("/customer/jobs")))["total"] == 1
    rows = await _owner_fetch(
        services, "SELECT ranked, released_upto FROM jobs WHERE job_id = $1", job["job_id"]
    )
    assert rows == [{"ranked": 6, "released_upto": 0}]  # the rate-limited rollout releases them in ticks


async def test_csv_import(tenant: Tenant, other_tenant: Tenant, services: Services) -> None:
    text = _csv(
        [
            ["device_id", "name", "site", "floor"],
            ["imp-1", "Pump one", "north", "2"],
            ["imp-2", "", "south", ""],
        ]
    )
    async with tenant.api() as api:
        dry = await _ok(await api.post("/customer/devices/import", json={"csv": text, "dry_run": True}))
        assert dry["dry_run"] is True and dry["count"] == 2
        assert dry["devices"][0] == {
            "device_id": "imp-1",
            "name": "Pump one",
            "attributes": {"site": "north", "floor": "2"},
            "provision_token": None,
        }
        assert (await _ok(await api.get("/customer/devices")))["total"] == 0  # a dry run creates nothing
        out = await _ok(await api.post("/customer/devices/import", json={"csv": text}))
        assert out["count"] == 2 and all(d["provision_token"].startswith("tok-") for d in out["devices"])
        got = await _ok(await api.get("/customer/devices/imp-2"))
        assert got["attributes"] == {"site": "south"} and got["status"] == "ACTIVE"
        # tokens are stored hashed, as for one device, and work on the device API
        rows = await _owner_fetch(
            services,
            "SELECT device_id, token_hash FROM device_state WHERE tenant_id = $1 AND device_id LIKE 'imp-%' ORDER BY 1",
            tenant.tenant_id,
        )
        assert [r["token_hash"] for r in rows] == [token_hash(d["provision_token"]) for d in out["devices"]]
        tenant.tokens["imp-1"] = out["devices"][0]["provision_token"]
        async with tenant.device_api("imp-1") as dev:
            assert (await dev.get("/device/v1/jobs/pending")).status_code == 200
        # the same file again: 409 naming the existing ids, nothing created
        r = await api.post(
            "/customer/devices/import", json={"csv": _csv([["device_id"], ["imp-3"], ["imp-1"]])}
        )
        assert r.status_code == 409 and r.json()["existing_device_ids"] == ["imp-1"]
        assert (await api.get("/customer/devices/imp-3")).status_code == 404

        bad: list[tuple[str, int | None, str]] = [
            ("", None, "empty"),
            ("name\nx\n", 1, "device_id column"),
            ("device_id,name,name\nx,a,b\n", 1, "appears twice"),
            ("device_id,name\nok-1,a\nbad id,b\n", 3, "not a device id"),
            ("device_id,name\nok-1,a\nok-2\n", 3, "1 cells"),
            ("device_id,name\nok-1,a\nok-1,b\n", 3, "repeats line 2"),
            ("device_id,name\nok-1," + "n" * 201 + "\n", 2, "at most 200"),
            ('device_id,name\nok-1,"unclosed\n', None, "not valid CSV"),
            ("device_id\n\n\n", None, "no devices"),
        ]
        for body, line, words in bad:
            r = await api.post("/customer/devices/import", json={"csv": body or " "})
            assert r.status_code == 400, (body, r.text)
            problem = r.json()
            assert problem["error"] == "invalid_csv", problem
            if problem["errors"]:
                assert words in problem["errors"][0]["message"], problem
                if line is not None:
                    assert problem["errors"][0]["line"] == line, problem
            else:
                assert words in problem["detail"], problem
        several = await api.post(
            "/customer/devices/import", json={"csv": "device_id\nbad id\nok\nalso bad\n"}
        )
        assert [e["line"] for e in several.json()["errors"]] == [2, 4]
        too_many = "device_id\n" + "".join(f"m-{i}\n" for i in range(10_001))
        r = await api.post("/customer/devices/import", json={"csv": too_many})
        assert r.status_code == 400 and "more than 10000" in r.text
        assert (await _ok(await api.get("/customer/devices")))["total"] == 2
        assert (await api.post("/customer/devices/import", json={"csv": text, "extra": 1})).status_code == 422
    # another tenant may import the same ids: ids are per tenant
    async with other_tenant.api() as api:
        assert (await _ok(await api.post("/customer/devices/import", json={"csv": text})))["count"] == 2
    # the devices quota counts the whole file
    owner = await connect(services.db.owner_url)
    try:
        await set_quotas(owner, tenant.tenant_id, {"devices": 3})
    finally:
        await owner.close()
    async with tenant.api() as api:
        r = await api.post("/customer/devices/import", json={"csv": _csv([["device_id"], ["q-1"], ["q-2"]])})
        assert r.status_code == 403 and r.json()["quota"] == "devices"
        assert (await _ok(await api.post("/customer/devices/import", json={"csv": "device_id\nq-1\n"})))[
            "count"
        ] == 1


async def test_csv_import_joins_fleet_continuous_jobs(tenant: Tenant) -> None:
    await tenant.create_devices(1)
    async with tenant.api() as api:
        job = await _ok(
            await api.post(
                "/customer/jobs",
                json={"document_type": "fw", "target_all": True, "target_selection": "CONTINUOUS"},
            ),
            201,
        )
        await _ok(await api.post("/customer/devices/import", json={"csv": "device_id\nc-1\nc-2\n"}))
        got = await _ok(await api.get(f"/customer/jobs/{job['job_id']}"))
        assert got["execution_count"] == 3


async def test_import_10k_then_select_all_and_target(tenant: Tenant) -> None:
    """10,000 devices in one file: timed (the figure is printed), then the whole lot selected by a filter
    into a group and targeted by one job, each one request."""
    text = _csv(
        [["device_id", "name", "site"], *([f"bulk-{i:05d}", f"Bulk {i}", f"s{i % 7}"] for i in range(10_000))]
    )
    async with tenant.api() as api:
        started = time.perf_counter()
        out = await _ok(await api.post("/customer/devices/import", json={"csv": text}))
        took = time.perf_counter() - started
        print(f"\nimport of 10000 devices: {took:.2f} s")
        assert out["count"] == 10_000 and len({d["provision_token"] for d in out["devices"]}) == 10_000
        await _ok(await api.post("/customer/groups", json={"group_id": "all", "name": "all"}), 201)
        started = time.perf_counter()
        added = await _ok(await api.post("/customer/groups/all/members", json={"matching": {"q": "bulk-"}}))
        print(f"group add of 10000 matching: {time.perf_counter() - started:.2f} s")
        assert added["added"] == 10_000
        started = time.perf_counter()
        body = {"document_type": "fw", "target_devices": {"matching": {"q": "bulk-0"}}}
        job = await _ok(await api.post("/customer/jobs", json=body), 201)
        print(f"job for 10000 matching: {time.perf_counter() - started:.2f} s")
        assert job["execution_count"] == 10_000

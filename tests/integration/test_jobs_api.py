"""The contract's Definition of Done for jobs, over real HTTP against a real database."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Services, Tenant


async def _create(t: Tenant, **body: Any) -> dict[str, Any]:
    async with t.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "reboot", **body})
        assert r.status_code == 201, r.text
        return dict(r.json())


async def _job(t: Tenant, job_id: str) -> dict[str, Any]:
    async with t.api() as api:
        r = await api.get(f"/customer/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


async def _put(t: Tenant, dev: str, job_id: str, **body: Any) -> Any:
    async with t.device_api(dev) as d:
        return await d.put(f"/device/v1/jobs/{job_id}/execution", json=body)


async def test_single_device_job_lifecycle(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    job = await _create(tenant, document_params={"delay_s": 5}, target_device_id=dev, expires_in_hours=1)
    assert job["status"] == "IN_PROGRESS" and job["execution_count"] == 1
    assert job["expires_at"] and job["created_at"] and job["counts"]["queued"] == 1
    assert job["created_by"] == f"admin@{tenant.tenant_id}.test"
    detail = await _job(tenant, job["job_id"])
    [ex] = detail["executions"]
    assert ex["device_id"] == dev and ex["status"] == "QUEUED" and ex["execution_number"] == 1
    assert detail["executions_truncated"] is False

    async with tenant.device_api(dev) as d:
        pending = (await d.get("/device/v1/jobs/pending")).json()["jobs"]
        assert [p["job_id"] for p in pending] == [job["job_id"]]
        assert pending[0]["document"] == {"type": "reboot", "params": {"delay_s": 5}}
        assert pending[0]["status"] == "QUEUED" and pending[0]["expires_at"]

    r = await _put(tenant, dev, job["job_id"], status="IN_PROGRESS")
    assert r.status_code == 200 and r.json()["status"] == "IN_PROGRESS" and r.json()["execution_number"] == 2
    detail = await _job(tenant, job["job_id"])
    assert detail["executions"][0]["status"] == "IN_PROGRESS" and detail["executions"][0]["started_at"]
    assert detail["counts"]["in_progress"] == 1 and detail["counts"]["queued"] == 0

    r = await _put(
        tenant, dev, job["job_id"], status="SUCCEEDED", status_details={"message": "reboot scheduled"}
    )
    assert r.status_code == 200 and r.json()["status"] == "SUCCEEDED"
    detail = await _job(tenant, job["job_id"])
    assert detail["status"] == "COMPLETED" and detail["completed_at"]
    assert detail["counts"]["succeeded"] == 1 and detail["progress"] == 1.0
    assert detail["executions"][0]["status_details"] == {"message": "reboot scheduled"}

    async with tenant.api() as api:
        events = (await api.get(f"/customer/jobs/{job['job_id']}/executions/{dev}/events")).json()["events"]
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("QUEUED", "IN_PROGRESS", "device"),
        ("IN_PROGRESS", "SUCCEEDED", "device"),
    ]
    async with tenant.device_api(dev) as d:
        got = (await d.get(f"/device/v1/jobs/{job['job_id']}/execution")).json()
        assert (
            got["status"] == "SUCCEEDED"
            and got["document"]["type"] == "reboot"
            and got["job_status"] == "COMPLETED"
        )
        assert (await d.get("/device/v1/jobs/pending")).json()["jobs"] == []


async def test_group_and_fleet_targeting_are_snapshots(tenant: Tenant) -> None:
    devs = await tenant.create_devices(5)
    await tenant.create_group("half", devs[:3])
    job = await _create(
        tenant, document_type="update_config", document_params={"log_level": "debug"}, target_group_id="half"
    )
    assert job["execution_count"] == 3 and job["target"] == {"type": "group", "id": "half"}
    async with tenant.api() as api:
        r = await api.post(f"/customer/devices/{devs[4]}/revoke")
        assert r.status_code == 200 and r.json()["status"] == "REVOKED", r.text
        fleet = (await api.post("/customer/jobs", json={"document_type": "x", "target_all": True})).json()
        assert fleet["execution_count"] == 4  # revoked devices are not targeted
        r = await api.post("/customer/groups/half/members", json={"device_ids": [devs[3]]})
        assert r.status_code == 200 and r.json()["added"] == 1, r.text
        members = (await api.get("/customer/groups/half")).json()["members"]
        assert devs[3] in {m["device_id"] for m in members}  # the group grew ...
    assert (await _job(tenant, job["job_id"]))["execution_count"] == 3  # ... but joining later adds nothing


async def test_create_job_errors(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    await tenant.create_group("empty", [])
    async with tenant.api() as api:

        async def post(body: dict[str, Any]) -> Any:
            return await api.post("/customer/jobs", json={"document_type": "reboot", **body})

        assert (await post({"target_device_id": "ghost"})).status_code == 404
        assert (await post({"target_group_id": "ghost"})).status_code == 404
        r = await post({"target_group_id": "empty"})
        assert r.status_code == 400 and "no active members" in r.json()["detail"]
        assert (await post({})).status_code == 400
        assert (await post({"target_device_id": dev, "target_all": True})).status_code == 400
        assert (await post({"target_device_id": dev, "document_type": ""})).status_code == 422
        assert (await post({"target_device_id": dev, "document_type": "x" * 101})).status_code == 422
        assert (await post({"target_device_id": dev, "document_params": [1]})).status_code == 422
        assert (
            await post({"target_device_id": dev, "document_params": {"b": "x" * 33 * 1024}})
        ).status_code == 422
        assert (await post({"target_device_id": dev, "expires_in_hours": 0})).status_code == 422
        assert (await post({"target_device_id": dev, "job_id": "bad id"})).status_code == 422
        assert (await post({"target_device_id": dev, "job_id": "x" * 65})).status_code == 422
        assert (await post({"target_device_id": dev, "job_id": "fw-1"})).status_code == 201
        dup = await post({"target_device_id": dev, "job_id": "fw-1"})
        assert dup.status_code == 409 and dup.json()["error"] == "conflict"
        listed = (await api.get("/customer/jobs")).json()
        assert listed["total"] == 1  # the failures left nothing behind
        await api.post(f"/customer/devices/{dev}/revoke")
        assert (await post({"target_device_id": dev})).status_code == 409


async def test_list_filters_and_pagination(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    ids = [
        (await _create(tenant, document_type="reboot" if i % 2 else "update_config", target_device_id=dev))[
            "job_id"
        ]
        for i in range(5)
    ]
    async with tenant.api() as api:
        page = (await api.get("/customer/jobs", params={"limit": 2})).json()
        assert page["total"] == 5 and [j["job_id"] for j in page["jobs"]] == ids[::-1][:2]  # newest first
        assert "counts" in page["jobs"][0] and "executions" not in page["jobs"][0]
        nxt = (await api.get("/customer/jobs", params={"limit": 2, "offset": 2})).json()
        assert [j["job_id"] for j in nxt["jobs"]] == ids[::-1][2:4]
        by_type = (await api.get("/customer/jobs", params={"document_type": "reboot"})).json()
        assert by_type["total"] == 2
        await api.delete(f"/customer/jobs/{ids[0]}")
        canceled = (await api.get("/customer/jobs", params={"status": "CANCELED"})).json()
        assert [j["job_id"] for j in canceled["jobs"]] == [ids[0]]
        assert (await api.get("/customer/jobs", params={"status": "BOGUS"})).status_code == 422
        dev_jobs = (await api.get(f"/customer/devices/{dev}/jobs")).json()
        assert dev_jobs["total"] == 5 and dev_jobs["executions"][0]["job_id"] == ids[-1]
        assert {e["job_status"] for e in dev_jobs["executions"]} == {"IN_PROGRESS", "CANCELED"}


async def test_executions_paging_and_cap(tenant: Tenant) -> None:
    devs = await tenant.create_devices(7)
    await tenant.create_group("all7", devs)
    job = await _create(tenant, target_group_id="all7")
    for dev in devs[:3]:
        assert (await _put(tenant, dev, job["job_id"], status="IN_PROGRESS")).status_code == 200
    async with tenant.api() as api:
        p1 = (await api.get(f"/customer/jobs/{job['job_id']}/executions", params={"limit": 4})).json()
        assert p1["total"] == 7 and len(p1["executions"]) == 4 and p1["next_after"] == sorted(devs)[3]
        p2 = (
            await api.get(
                f"/customer/jobs/{job['job_id']}/executions", params={"limit": 4, "after": p1["next_after"]}
            )
        ).json()
        assert [e["device_id"] for e in p1["executions"] + p2["executions"]] == sorted(devs)
        running = (
            await api.get(f"/customer/jobs/{job['job_id']}/executions", params={"status": "IN_PROGRESS"})
        ).json()
        assert running["total"] == 3 and {e["device_id"] for e in running["executions"]} == set(devs[:3])
        assert (await api.get("/customer/jobs/ghost/executions")).status_code == 404
        assert (await api.get(f"/customer/jobs/{job['job_id']}/executions/ghost/events")).status_code == 404


async def test_device_transition_rules(tenant: Tenant) -> None:
    a, b = await tenant.create_devices(2)
    job = (await _create(tenant, target_device_id=a))["job_id"]
    # not allowed from QUEUED
    for status in ("SUCCEEDED", "FAILED", "QUEUED", "TIMED_OUT"):
        r = await _put(tenant, a, job, status=status)
        assert r.status_code in (409, 422), (status, r.text)
    r = await _put(tenant, a, job, status="SUCCEEDED")
    assert r.status_code == 409 and r.json()["current"]["status"] == "QUEUED"
    # another device of the tenant has no execution of this job
    assert (await _put(tenant, b, job, status="IN_PROGRESS")).status_code == 404
    assert (await _put(tenant, a, "no-such-job", status="IN_PROGRESS")).status_code == 404
    # stale optimistic version
    r = await _put(tenant, a, job, status="IN_PROGRESS", expected_execution_number=7)
    assert r.status_code == 409 and r.json()["current"]["execution_number"] == 1
    r = await _put(tenant, a, job, status="IN_PROGRESS", expected_execution_number=1)
    assert r.status_code == 200 and r.json()["execution_number"] == 2
    # progress updates
    r = await _put(tenant, a, job, status="IN_PROGRESS", status_details={"pct": 50})
    assert (
        r.status_code == 200
        and r.json()["status_details"] == {"pct": 50}
        and r.json()["execution_number"] == 3
    )
    assert (
        await _put(tenant, a, job, status="IN_PROGRESS", status_details={"x": "y" * 17 * 1024})
    ).status_code == 422
    r = await _put(tenant, a, job, status="FAILED", status_details={"error": "disk full"})
    assert r.status_code == 200 and r.json()["execution_number"] == 4
    # the exact same terminal update again: 200, nothing changes
    again = await _put(tenant, a, job, status="FAILED", status_details={"error": "disk full"})
    assert again.status_code == 200 and again.json()["execution_number"] == 4
    again = await _put(tenant, a, job, status="FAILED")
    assert again.status_code == 200 and again.json()["status_details"] == {"error": "disk full"}
    # anything else out of a terminal status
    for body in (
        {"status": "SUCCEEDED"},
        {"status": "IN_PROGRESS"},
        {"status": "REJECTED"},
        {"status": "FAILED", "status_details": {"error": "other"}},
    ):
        r = await _put(tenant, a, job, **body)
        assert r.status_code == 409 and r.json()["current"]["status"] == "FAILED", body
    detail = await _job(tenant, job)
    assert detail["status"] == "COMPLETED" and detail["counts"]["failed"] == 1
    async with tenant.api() as api:
        events = (await api.get(f"/customer/jobs/{job}/executions/{a}/events")).json()["events"]
    assert [e["to_status"] for e in events] == ["IN_PROGRESS", "IN_PROGRESS", "FAILED"]


async def test_device_may_reject_queued_work(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    job = (await _create(tenant, target_device_id=dev))["job_id"]
    r = await _put(tenant, dev, job, status="REJECTED", status_details={"reason": "busy"})
    assert r.status_code == 200
    detail = await _job(tenant, job)
    assert detail["status"] == "COMPLETED" and detail["counts"]["rejected"] == 1


async def test_pending_order_and_expiry(clock: Services, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    clock.set_clock(t0)
    first = (await _create(tenant, target_device_id=dev, job_id="first"))["job_id"]
    clock.set_clock(t0 + timedelta(minutes=1))
    second = (await _create(tenant, target_device_id=dev, job_id="second", expires_in_hours=1))["job_id"]
    clock.set_clock(t0 + timedelta(minutes=2))
    third = (await _create(tenant, target_device_id=dev, job_id="third"))["job_id"]
    assert (await _put(tenant, dev, third, status="IN_PROGRESS")).status_code == 200
    async with tenant.device_api(dev) as d:
        pending = (await d.get("/device/v1/jobs/pending")).json()["jobs"]
        assert [p["job_id"] for p in pending] == [third, first, second]  # IN_PROGRESS first, then oldest
        clock.set_clock(t0 + timedelta(hours=2))
        pending = (await d.get("/device/v1/jobs/pending")).json()["jobs"]
        assert [p["job_id"] for p in pending] == [third, first]  # the expired job is left out
    r = await _put(tenant, dev, second, status="IN_PROGRESS")
    assert r.status_code == 409 and "expired" in r.json()["detail"]


async def test_cancel(tenant: Tenant) -> None:
    devs = await tenant.create_devices(3)
    await tenant.create_group("c3", devs)
    job = (await _create(tenant, target_group_id="c3"))["job_id"]
    assert (await _put(tenant, devs[0], job, status="IN_PROGRESS")).status_code == 200
    async with tenant.api() as api:
        r = await api.request("DELETE", f"/customer/jobs/{job}", json={"reason": "wrong firmware"})
        assert r.status_code == 200, r.text
        assert r.json() == {
            "job_id": job,
            "status": "CANCELED",
            "rejected_executions": 2,
            "sweep_complete": True,
        }
        again = await api.delete(f"/customer/jobs/{job}")
        assert again.status_code == 409 and again.json()["status"] == "CANCELED"
        assert (await api.delete("/customer/jobs/ghost")).status_code == 404
    detail = await _job(tenant, job)
    by_dev = {e["device_id"]: e for e in detail["executions"]}
    assert detail["status"] == "CANCELED" and detail["cancel_reason"] == "wrong firmware"
    assert by_dev[devs[1]]["status"] == "REJECTED"
    assert by_dev[devs[1]]["status_details"] == {"reason": "job_canceled", "message": "wrong firmware"}
    assert by_dev[devs[0]]["status"] == "IN_PROGRESS"
    assert detail["counts"] == {
        "queued": 0,
        "in_progress": 1,
        "succeeded": 0,
        "failed": 0,
        "timed_out": 0,
        "rejected": 2,
        "canceled": 0,
        "removed": 0,
    }
    # the device that had started may still finish; the job stays CANCELED
    assert (await _put(tenant, devs[0], job, status="SUCCEEDED")).status_code == 200
    assert (await _put(tenant, devs[1], job, status="IN_PROGRESS")).status_code == 409
    detail = await _job(tenant, job)
    assert detail["status"] == "CANCELED" and detail["counts"]["succeeded"] == 1
    async with tenant.api() as api:
        events = (await api.get(f"/customer/jobs/{job}/executions/{devs[1]}/events")).json()["events"]
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("QUEUED", "REJECTED", "operator")
    ]
    # a completed job cannot be canceled
    done = (await _create(tenant, target_device_id=devs[2]))["job_id"]
    await _put(tenant, devs[2], done, status="REJECTED")
    async with tenant.api() as api:
        r = await api.delete(f"/customer/jobs/{done}")
        assert r.status_code == 409 and r.json()["status"] == "COMPLETED"

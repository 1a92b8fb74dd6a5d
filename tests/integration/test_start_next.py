"""POST /device/v1/jobs/start-next (AWS StartNextPendingJobExecution over the device API): the device's next
pending execution, claimed in the same call; the one IN_PROGRESS comes back as it is (or updated, with
details); nothing pending is `execution: null`. Concurrent callers of the same devices claim each execution
exactly once, and the counters agree. The simulator's start-next flow completes a job through it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from shared.auth import token_hash
from shared.infra.config import Settings
from shared.jobs.group_commit import GroupCommit, MoveRequest
from simulator.engine import Fleet, SimConfig
from tests.conftest import Services, Tenant

NEXT = "/device/v1/jobs/start-next"


async def _job(tenant: Tenant, **target: Any) -> str:
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"document_type": "fw", "document_params": {"v": 2}, **target}
        )
        assert r.status_code == 201, r.text
        job_id: str = r.json()["job_id"]
        return job_id


async def test_start_next_claims_in_order_until_nothing_is_left(tenant: Tenant, settings: Settings) -> None:
    [dev] = await tenant.create_devices(1, prefix="sn")
    first = await _job(tenant, target_device_id=dev)
    second = await _job(tenant, target_device_id=dev)
    async with tenant.device_api(dev) as device:
        r = await device.post(NEXT)
        assert r.status_code == 200, r.text
        body = r.json()
        ex = body["execution"]
        assert (ex["job_id"], ex["status"], ex["execution_number"]) == (first, "IN_PROGRESS", 2)
        assert ex["document"] == {"type": "fw", "params": {"v": 2}} and ex["started_at"] is not None
        assert body["more_pending"] is True
        assert body["poll"]["sleep_seconds"] == settings.poll_sleep_pending_seconds

        again = (await device.post(NEXT, json={})).json()  # the one IN_PROGRESS, as it is
        assert again["execution"] == ex and again["more_pending"] is True

        r = await device.post(NEXT, json={"status_details": {"step": "download"}, "step_timeout_minutes": 5})
        updated = r.json()["execution"]  # with details: updated in place, as AWS does
        assert (updated["job_id"], updated["execution_number"]) == (first, 3)
        assert updated["status_details"] == {"step": "download"}

        r = await device.put(f"/device/v1/jobs/{first}/execution", json={"status": "SUCCEEDED"})
        assert r.status_code == 200, r.text
        body = (await device.post(NEXT)).json()
        assert body["execution"]["job_id"] == second and body["more_pending"] is False
        r = await device.put(f"/device/v1/jobs/{second}/execution", json={"status": "FAILED"})
        assert r.status_code == 200, r.text

        body = (await device.post(NEXT)).json()
        assert body == {
            "execution": None,
            "more_pending": False,
            "poll": {"sleep_seconds": settings.poll_sleep_seconds},
        }
        history = (await device.get(f"/device/v1/jobs/{first}/execution")).json()
        assert history["status"] == "SUCCEEDED"


async def test_start_next_refuses_bad_calls_and_changes_nothing(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="snbad")
    job = await _job(tenant, target_device_id=dev)
    async with tenant.device_api(dev) as device:
        for body in ({"status_details": "x"}, {"step_timeout_minutes": 0}, {"status": "IN_PROGRESS"}):
            r = await device.post(NEXT, json=body)
            assert r.status_code == 422, (body, r.text)
        r = await device.post(NEXT, content=b"{", headers={"Content-Type": "application/json"})
        assert r.status_code == 422
        r = await device.post(NEXT, headers={"X-Provision-Token": "wrong"})
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        r = await device.get(f"/device/v1/jobs/{job}/execution")
        assert (r.json()["status"], r.json()["execution_number"]) == ("QUEUED", 1)


async def test_concurrent_start_next_claims_each_execution_once(tenant: Tenant) -> None:
    devices = await tenant.create_devices(120, prefix="snc")
    await tenant.create_group("sncg", devices)
    job = await _job(tenant, target_group_id="sncg")

    async def start(client: httpx.AsyncClient, dev: str) -> dict[str, Any]:
        r = await client.post(NEXT, headers={"X-Provision-Token": tenant.tokens[dev]})
        assert r.status_code == 200, r.text
        execution: dict[str, Any] = r.json()["execution"]
        return execution

    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=tenant.services.device.url, timeout=60, limits=limits) as client:
        # two clients of every device at once
        answers = await asyncio.gather(*(start(client, d) for d in devices for _ in range(2)))
    for execution in answers:
        assert execution["job_id"] == job and execution["status"] == "IN_PROGRESS"
        assert execution["execution_number"] == 2  # claimed once, whichever call did it
    async with tenant.api() as api:
        body = (await api.get(f"/customer/jobs/{job}")).json()
        assert body["counts"]["in_progress"] == 120 and body["counts"]["queued"] == 0
        for dev in devices[:10]:  # one claim in each history, not two
            events = await api.get(f"/customer/jobs/{job}/executions/{dev}/events")
            assert events.status_code == 200, events.text
            assert [e["to_status"] for e in events.json()["events"]] == ["IN_PROGRESS"]


async def test_the_simulator_start_next_flow_completes_a_job(tenant: Tenant, services: Services) -> None:
    devices = await tenant.create_devices(6, prefix="snsim")
    await tenant.create_group("snsim", devices)
    job = await _job(tenant, target_group_id="snsim")
    cfg = SimConfig(
        device_url=services.device.url, poll_interval=0.1, run_seconds=0.05, progress_steps=1, until_idle=True,
        idle_seconds=1.0, seed=3, flow="start-next",
    )  # fmt: skip
    stats = await asyncio.wait_for(Fleet(tenant.tokens, cfg).run(), 60)
    assert stats.server_errors == 0 and not stats.errors, stats.summary()
    assert stats.starts == 6 and sum(stats.finished.values()) == 6
    assert stats.updates["IN_PROGRESS"] == 6  # one progress update each; the claims were the starts
    async with tenant.api() as api:
        body = (await api.get(f"/customer/jobs/{job}")).json()
    assert body["status"] == "COMPLETED"
    assert all(e["execution_number"] == 4 for e in body["executions"])  # start, progress, finish


async def test_one_statement_answers_starts_and_updates_each_their_own(
    tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    """Start-next requests in the same group-commit statement as updates: each gets its own answer."""
    queued, idle, running, detailed, updater = await tenant.create_devices(5, prefix="snmix")
    await tenant.create_group("snmix", [queued, running, detailed, updater])
    job = await _job(tenant, target_group_id="snmix")
    for dev in (running, detailed):
        async with tenant.device_api(dev) as device:
            r = await device.put(f"/device/v1/jobs/{job}/execution", json={"status": "IN_PROGRESS"})
            assert r.status_code == 200, r.text
    now = datetime.now(UTC)

    def start(dev: str, details: dict[str, Any] | None = None) -> MoveRequest:
        return MoveRequest(token_hash(tenant.tokens[dev]), None, "IN_PROGRESS", details, None, now)

    requests = [
        start(queued),
        start(idle),
        start(running),
        start(detailed, {"step": 2}),
        MoveRequest(token_hash("tok-unknown"), None, "IN_PROGRESS", None, None, now),
        MoveRequest(token_hash(tenant.tokens[updater]), job, "REJECTED", None, 1, now),
    ]
    mover = GroupCommit(app_pool, 60)
    async with app_pool.acquire() as conn:
        rows = await mover.run(conn, requests)
    got = [(r["outcome"], r["status"], r["execution_number"], r["more_pending"]) for r in rows]
    assert got == [
        ("moved", "IN_PROGRESS", 2, False),
        ("none", None, None, False),
        ("unchanged", "IN_PROGRESS", 2, False),
        ("moved", "IN_PROGRESS", 3, False),
        ("unauthorized", None, None, None),
        ("moved", "REJECTED", 2, None),
    ]
    assert rows[0]["job_id"] == job and rows[0]["document_type"] == "fw"
    assert rows[0]["document_params"] == {"v": 2} and rows[5]["document_type"] is None
    assert rows[3]["status_details"] == {"step": 2}
    async with tenant.api() as api:
        counts = (await api.get(f"/customer/jobs/{job}")).json()["counts"]
    assert (counts["queued"], counts["in_progress"], counts["rejected"]) == (0, 3, 1)


async def test_a_start_next_and_an_update_of_one_device_go_in_separate_statements(
    tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    """The start-next may find the very execution the update names: the device's second request waits for
    the next statement, so both are decided in arrival order (together, the update would be refused as a
    duplicate of the start-next's move)."""
    busy, dev = await tenant.create_devices(2, prefix="snkey")
    job = await _job(tenant, target_device_id=dev)
    await _job(tenant, target_device_id=busy)
    now = datetime.now(UTC)
    mover = GroupCommit(app_pool, 60)  # one statement in flight: the first request's goes out alone
    token = token_hash(tenant.tokens[dev])
    first, started, updated = await asyncio.gather(
        mover.move(MoveRequest(token_hash(tenant.tokens[busy]), None, "IN_PROGRESS", None, None, now)),
        mover.move(MoveRequest(token, None, "IN_PROGRESS", None, None, now)),
        mover.move(MoveRequest(token, job, "SUCCEEDED", None, None, now)),
    )
    assert first["outcome"] == "moved"
    assert (started["outcome"], started["job_id"], started["execution_number"]) == ("moved", job, 2)
    assert (updated["outcome"], updated["status"], updated["execution_number"]) == ("moved", "SUCCEEDED", 3)
    assert mover.batches == 3

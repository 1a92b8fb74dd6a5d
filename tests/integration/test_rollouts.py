"""Safe rollouts over real HTTP: rollout rates (constant and exponential), abort criteria of each failure
type, retries per failure type, step timeouts, schedules (start, each end behavior, maintenance windows) and
bad configs. The worker's ticks run with exact times (no sleeping); every invariant holds after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from shared.infra.db import connect, create_pool
from shared.jobs.expiry import run_jobs_expiry_tick
from shared.jobs.rollout import run_rollout_tick
from tests.conftest import Services, Tenant, make_tenant
from tests.integration.reliability.invariants import check_all
from tests.support.pg import TestDB
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app

T0 = datetime(2035, 6, 1, tzinfo=UTC)  # a Friday, midnight
MIN = timedelta(minutes=1)


# The rollout tick works across tenants: each test gets a database of its own (and servers on it), so the
# tick's figures are this test's alone.
@pytest.fixture
async def clock(fresh_db: TestDB, settings: Settings) -> AsyncIterator[Services]:
    ui = await LiveServer(create_ui_app(settings, fresh_db.app_url)).start()
    device = await LiveServer(create_device_app(settings, fresh_db.app_url)).start()
    yield Services(ui=ui, device=device, db=fresh_db, settings=settings)
    await ui.stop()
    await device.stop()


@pytest.fixture
async def tenant(clock: Services) -> Tenant:
    return await make_tenant(clock)


@pytest.fixture
async def app_pool(fresh_db: TestDB) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_db.app_url, min_size=1, max_size=6)
    yield pool
    await pool.close()


@pytest.fixture(autouse=True)
async def exact_after(clock: Services) -> AsyncIterator[None]:
    yield
    owner = await connect(clock.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()


async def _create(t: Tenant, clock: Services, n: int, prefix: str, **job: Any) -> list[str]:
    devs = await t.create_devices(n, prefix=prefix)
    await t.create_group(prefix, devs)
    clock.set_clock(T0)
    async with t.api() as api:
        r = await api.post(
            "/customer/jobs", json={"document_type": "fw", "target_group_id": prefix, "job_id": prefix, **job}
        )
        assert r.status_code == 201, r.text
    return devs


async def _job(t: Tenant, job_id: str) -> dict[str, Any]:
    async with t.api() as api:
        r = await api.get(f"/customer/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


async def _sees(t: Tenant, devs: list[str], job_id: str) -> list[str]:
    """The devices whose poll shows the job."""
    seen = []
    for d in devs:
        async with t.device_api(d) as api:
            r = await api.get("/device/v1/jobs/pending")
            assert r.status_code == 200, r.text
            if any(j["job_id"] == job_id for j in r.json()["jobs"]):
                seen.append(d)
    return seen


async def _put(t: Tenant, device: str, job_id: str, body: dict[str, Any]) -> httpx.Response:
    async with t.device_api(device) as d:
        return await d.put(f"/device/v1/jobs/{job_id}/execution", json=body)


async def _run(t: Tenant, device: str, job_id: str, end: str) -> None:
    assert (await _put(t, device, job_id, {"status": "IN_PROGRESS"})).status_code == 200
    r = await _put(t, device, job_id, {"status": end})
    assert r.status_code == 200, r.text


async def test_constant_rate_reaches_devices_a_minute_at_a_time(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    devs = await _create(tenant, clock, 7, "rate", rollout_config={"maximum_per_minute": 3})
    assert await _sees(tenant, devs, "rate") == []
    job = await _job(tenant, "rate")
    assert job["rollout"]["reached"] == 0 and job["rollout"]["total"] == 7
    assert job["rollout_config"] == {"maximum_per_minute": 3}

    assert (await run_rollout_tick(app_pool, T0)).reached == 3
    first = await _sees(tenant, devs, "rate")
    assert len(first) == 3
    unreached = next(d for d in devs if d not in first)
    r = await _put(tenant, unreached, "rate", {"status": "IN_PROGRESS"})
    assert r.status_code == 409 and r.json()["reason"] == "not_reached", r.text

    assert (await run_rollout_tick(app_pool, T0 + 59 * timedelta(seconds=1))).reached == 0
    assert (await run_rollout_tick(app_pool, T0 + MIN)).reached == 3
    assert (await run_rollout_tick(app_pool, T0 + 2 * MIN)).reached == 1
    assert sorted(await _sees(tenant, devs, "rate")) == sorted(devs)
    job = await _job(tenant, "rate")
    assert job["rollout"] | {"window_opened_at": None, "history": None} == {
        "reached": 7, "total": 7, "rate_per_minute": 3, "window_opened_at": None, "stopped_at": None,
        "history": None,
    }  # fmt: skip
    assert [(p["at"], p["reached"]) for p in job["rollout"]["history"]] == [
        ("2035-06-01T00:00:00Z", 3), ("2035-06-01T00:01:00Z", 6), ("2035-06-01T00:02:00Z", 7),
    ]  # fmt: skip


async def test_exponential_rate_grows_with_devices_notified_and_succeeded(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    grow = {
        "base_rate_per_minute": 2,
        "increment_factor": 2,
        "rate_increase_criteria": {"number_of_notified_things": 2},
    }
    await _create(
        tenant, clock, 30, "expn", rollout_config={"maximum_per_minute": 100, "exponential_rate": grow}
    )
    reached = []
    for minute in range(4):
        await run_rollout_tick(app_pool, T0 + minute * MIN)
        reached.append((await _job(tenant, "expn"))["rollout"]["reached"])
    # 2 at the base rate; 2 notified -> rate 4; 6 notified passes steps 4 and 6 -> rate 16; the rest
    assert reached == [2, 6, 22, 30]

    on_success = {
        "base_rate_per_minute": 1,
        "increment_factor": 3,
        "rate_increase_criteria": {"number_of_succeeded_things": 1},
    }
    devs = await _create(tenant, clock, 10, "exps", rollout_config={"exponential_rate": on_success})
    await run_rollout_tick(app_pool, T0)
    [first] = await _sees(tenant, devs, "exps")
    await run_rollout_tick(app_pool, T0 + MIN)  # nobody succeeded yet: still 1 a minute
    assert (await _job(tenant, "exps"))["rollout"]["reached"] == 2
    for d in await _sees(tenant, devs, "exps"):
        await _run(tenant, d, "exps", "SUCCEEDED")
    await run_rollout_tick(app_pool, T0 + 2 * MIN)  # 2 succeeded: rate 1 -> 3 -> 9
    job = await _job(tenant, "exps")
    assert job["rollout"]["reached"] == 10 and job["rollout"]["rate_per_minute"] == 9
    assert first


@pytest.mark.parametrize(
    ("failure_type", "ends"),
    [
        ("FAILED", ["FAILED", "FAILED", "SUCCEEDED"]),
        ("REJECTED", ["REJECTED", "REJECTED", "SUCCEEDED"]),
        ("TIMED_OUT", ["TIMED_OUT", "TIMED_OUT", "SUCCEEDED"]),
        ("ALL", ["FAILED", "REJECTED", "SUCCEEDED"]),
    ],
)
async def test_abort_cancels_the_job_when_a_criterion_is_met(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool, failure_type: str, ends: list[str]
) -> None:
    criterion = {"failure_type": failure_type, "action": "CANCEL", "threshold_percentage": 60,
                 "min_number_of_executed_things": 3}  # fmt: skip
    job_id = f"ab-{failure_type.lower().replace('_', '')}"
    devs = await _create(
        tenant, clock, 6, job_id, abort_config={"criteria_list": [criterion]}, in_progress_timeout_minutes=5
    )
    for d, end in zip(devs[:2], ends[:2], strict=True):
        if end == "TIMED_OUT":
            assert (await _put(tenant, d, job_id, {"status": "IN_PROGRESS"})).status_code == 200
        elif end == "REJECTED":
            assert (await _put(tenant, d, job_id, {"status": "REJECTED"})).status_code == 200
        else:
            await _run(tenant, d, job_id, end)
    await run_jobs_expiry_tick(app_pool, T0 + 5 * MIN)  # the TIMED_OUT ones
    # 2 of 2 executed failed (100 %), but fewer than 3 executed: no abort yet
    assert not (await run_rollout_tick(app_pool, T0 + 5 * MIN)).aborted
    await _run(tenant, devs[2], job_id, ends[2])
    assert (await run_rollout_tick(app_pool, T0 + 6 * MIN)).aborted == [job_id]  # 2 of 3: 66.7 % >= 60 %
    job = await _job(tenant, job_id)
    assert job["status"] == "CANCELED" and job["cancel_reason_code"] == f"ABORTED_{failure_type}"
    assert job["abort"]["aborted"] and job["abort"]["criterion"]["failure_type"] == failure_type
    assert job["abort"]["failures"] == 2 and job["abort"]["executed"] == 3
    assert job["counts"]["canceled"] == 3 and job["counts"]["queued"] == 0
    assert await _sees(tenant, devs, job_id) == []


async def test_abort_waits_below_the_threshold(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    criterion = {"failure_type": "FAILED", "threshold_percentage": 50, "min_number_of_executed_things": 2}
    devs = await _create(tenant, clock, 4, "abq", abort_config={"criteria_list": [criterion]})
    await _run(tenant, devs[0], "abq", "FAILED")
    for d in devs[1:3]:
        await _run(tenant, d, "abq", "SUCCEEDED")
    assert not (await run_rollout_tick(app_pool, T0 + MIN)).aborted  # 1 of 3 failed: 33 % < 50 %
    job = await _job(tenant, "abq")
    assert (
        job["status"] == "IN_PROGRESS"
        and job["abort"]["aborted"] is False
        and job["abort"]["criterion"] is None
    )


async def test_retries_queue_failed_executions_again_up_to_the_limit(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    retry = {"criteria_list": [{"failure_type": "FAILED", "number_of_retries": 2}]}
    [dev, other] = await _create(tenant, clock, 2, "rtf", retry_config=retry)
    numbers = []
    for attempt in (1, 2):
        await _run(tenant, dev, "rtf", "FAILED")
        assert await _sees(tenant, [dev], "rtf") == [dev]
        async with tenant.api() as api:
            [ex] = [
                e for e in (await api.get("/customer/jobs/rtf")).json()["executions"] if e["device_id"] == dev
            ]
        assert ex["status"] == "QUEUED" and ex["retry_attempt"] == attempt
        assert ex["status_details"] == {"reason": "retry", "retry_attempt": attempt, "after": "FAILED"}
        numbers.append(ex["execution_number"])
    assert numbers == [4, 7]  # each retry is a new execution number
    await _run(tenant, dev, "rtf", "FAILED")  # the third failure stays
    await _run(tenant, other, "rtf", "SUCCEEDED")
    job = await _job(tenant, "rtf")
    assert job["status"] == "COMPLETED" and job["counts"]["failed"] == 1 and job["counts"]["succeeded"] == 1


async def test_retries_of_timeouts_and_the_step_timeout(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    retry = {"criteria_list": [{"failure_type": "TIMED_OUT", "number_of_retries": 1}]}
    [dev] = await _create(tenant, clock, 1, "rtt", retry_config=retry, in_progress_timeout_minutes=30)
    r = await _put(tenant, dev, "rtt", {"status": "IN_PROGRESS", "step_timeout_minutes": 5})
    assert r.status_code == 200, r.text
    clock.set_clock(T0 + 4 * MIN)  # a progress update with a new step timeout moves the deadline
    r = await _put(tenant, dev, "rtt", {"status": "IN_PROGRESS", "step_timeout_minutes": 5})
    assert r.status_code == 200
    assert (await run_jobs_expiry_tick(app_pool, T0 + 9 * MIN - timedelta(seconds=1))).overdue_timed_out == 0
    assert (await run_jobs_expiry_tick(app_pool, T0 + 9 * MIN)).overdue_timed_out == 1
    async with tenant.api() as api:
        events = (await api.get(f"/customer/jobs/rtt/executions/{dev}/events")).json()["events"]
    assert [(e["to_status"], (e["status_details"] or {}).get("reason")) for e in events[-2:]] == [
        ("TIMED_OUT", "step_timeout"),
        ("QUEUED", "retry"),
    ]
    # the retry: claimed again, the in-progress timeout (30 min from this claim) times it out once more
    clock.set_clock(T0 + 10 * MIN)
    assert (await _put(tenant, dev, "rtt", {"status": "IN_PROGRESS"})).status_code == 200
    await run_jobs_expiry_tick(app_pool, T0 + 40 * MIN)
    job = await _job(tenant, "rtt")
    assert job["status"] == "COMPLETED" and job["counts"]["timed_out"] == 1
    bad = await _put(tenant, dev, "rtt", {"status": "SUCCEEDED", "step_timeout_minutes": 5})
    assert bad.status_code == 422


async def test_a_scheduled_job_starts_at_its_start_time(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    start = T0 + 10 * MIN
    devs = await _create(tenant, clock, 3, "sch", scheduling_config={"start_time": start.isoformat()})
    job = await _job(tenant, "sch")
    assert job["status"] == "SCHEDULED" and job["schedule"]["start_time"] == start.isoformat().replace(
        "+00:00", "Z"
    )
    assert await _sees(tenant, devs, "sch") == []
    r = await _put(tenant, devs[0], "sch", {"status": "IN_PROGRESS"})
    assert r.status_code == 409 and r.json()["reason"] == "job_scheduled"
    assert not (await run_rollout_tick(app_pool, start - timedelta(seconds=1))).started
    result = await run_rollout_tick(app_pool, start)
    assert result.started == ["sch"] and result.reached == 3
    assert sorted(await _sees(tenant, devs, "sch")) == sorted(devs)


@pytest.mark.parametrize("behavior", ["STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL"])
async def test_the_schedule_end_applies_its_behavior(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool, behavior: str
) -> None:
    job_id = f"end-{behavior.lower().replace('_', '')}"
    end = T0 + 30 * MIN
    devs = await _create(
        tenant, clock, 5, job_id, rollout_config={"maximum_per_minute": 2},
        scheduling_config={"end_time": end.isoformat(), "end_behavior": behavior},
    )  # fmt: skip
    await run_rollout_tick(app_pool, T0)
    running, waiting = await _sees(tenant, devs, job_id)
    assert (await _put(tenant, running, job_id, {"status": "IN_PROGRESS"})).status_code == 200
    result = await run_rollout_tick(app_pool, end)
    assert result.ended == [job_id] and result.reached == 0
    job = await _job(tenant, job_id)
    counts = job["counts"]
    if behavior == "STOP_ROLLOUT":
        # the 3 never reached are canceled; the 2 reached go on, and the job with them
        assert job["status"] == "IN_PROGRESS" and result.stopped == 3
        assert counts["canceled"] == 3 and counts["queued"] == 1 and counts["in_progress"] == 1
        assert job["rollout"]["stopped_at"] is not None and job["schedule"]["end_applied_at"] is not None
        await _put(tenant, running, job_id, {"status": "SUCCEEDED"})
        await _run(tenant, waiting, job_id, "SUCCEEDED")
        assert (await _job(tenant, job_id))["status"] == "COMPLETED"
    else:
        assert job["status"] == "CANCELED" and job["cancel_reason_code"] == "SCHEDULE_ENDED"
        assert counts["queued"] == 0
        assert counts["in_progress"] == (0 if behavior == "FORCE_CANCEL" else 1)
        assert counts["canceled"] == (5 if behavior == "FORCE_CANCEL" else 4)


async def test_maintenance_windows_gate_the_release(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    windows = [{"start_time": "cron(0 2 ? * FRI *)", "duration_in_minutes": 60}]  # Fridays 02:00-03:00
    devs = await _create(tenant, clock, 3, "mw", scheduling_config={"maintenance_windows": windows})
    job = await _job(tenant, "mw")
    assert job["scheduling_config"]["maintenance_windows"][0]["start_time"] == "0 2 * * FRI"
    assert job["schedule"]["in_window"] is False
    assert job["schedule"]["next_window"] == {"start": "2035-06-01T02:00:00Z", "end": "2035-06-01T03:00:00Z"}
    assert (await run_rollout_tick(app_pool, T0 + 119 * MIN)).reached == 0
    assert (await run_rollout_tick(app_pool, T0 + 180 * MIN)).reached == 0  # the window has closed
    assert await _sees(tenant, devs, "mw") == []
    assert (await run_rollout_tick(app_pool, T0 + 150 * MIN)).reached == 3


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("rollout_config", {"maximum_per_minute": 0}, "greater than or equal to 1"),
        ("rollout_config", {"maximum_per_minute": 1_000_001}, "less than or equal to 1000000"),
        ("rollout_config", {}, "give maximum_per_minute"),
        ("rollout_config", {"exponential_rate": {"base_rate_per_minute": 5, "increment_factor": 6,
                                                 "rate_increase_criteria": {"number_of_notified_things": 1}}},
         "less than or equal to 5"),
        ("abort_config", {"criteria_list": [{"failure_type": "BROKEN", "threshold_percentage": 5,
                                             "min_number_of_executed_things": 1}]}, "FAILED"),
        ("abort_config", {"criteria_list": []}, "at least 1"),
        ("retry_config", {"criteria_list": [{"failure_type": "FAILED", "number_of_retries": 11}]}, "10"),
        ("retry_config", {"criteria_list": [{"failure_type": "FAILED", "number_of_retries": 1},
                                            {"failure_type": "FAILED", "number_of_retries": 2}]}, "one criterion"),
        ("scheduling_config", {"start_time": "2035-06-02T00:00:00Z", "end_time": "2035-06-01T00:00:00Z"},
         "end_time must be after start_time"),
        ("scheduling_config", {"maintenance_windows": [{"start_time": "every day", "duration_in_minutes": 5}]},
         "not a cron expression"),
    ],
)  # fmt: skip
async def test_bad_configs_get_422_and_create_nothing(
    clock: Services, tenant: Tenant, field: str, value: Any, words: str
) -> None:
    await tenant.create_devices(1, prefix="bad")
    async with tenant.api() as api:
        before = (await api.get("/customer/jobs")).json()["total"]
        r = await api.post("/customer/jobs", json={"document_type": "fw", "target_all": True, field: value})
        assert r.status_code == 422, r.text
        assert words in r.text
        assert (await api.get("/customer/jobs")).json()["total"] == before


async def test_a_templates_configs_are_the_defaults_of_its_jobs(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    await tenant.create_devices(3, prefix="tpl")
    await tenant.create_group("tpl", [f"tpl-{i:05d}" for i in range(3)])
    template = {
        "template_id": "careful",
        "document_type": "fw",
        "configs": {
            "rollout_config": {"maximum_per_minute": 1},
            "abort_config": {"criteria_list": [{"failure_type": "ALL", "threshold_percentage": 50,
                                                "min_number_of_executed_things": 2}]},
        },
    }  # fmt: skip
    async with tenant.api() as api:
        bad = {**template, "configs": {"rollout_config": {"maximum_per_minute": 0}}}
        assert (await api.post("/customer/job-templates", json=bad)).status_code == 422
        assert (await api.post("/customer/job-templates", json=template)).status_code == 201
        r = await api.post("/customer/jobs", json={"template_id": "careful", "target_group_id": "tpl"})
        assert r.status_code == 201, r.text
        job = r.json()
        assert job["template_id"] == "careful" and job["rollout_config"] == {"maximum_per_minute": 1}
        assert job["abort_config"]["criteria_list"][0]["failure_type"] == "ALL"
        own = {
            "template_id": "careful",
            "target_group_id": "tpl",
            "rollout_config": {"maximum_per_minute": 2},
        }
        r = await api.post("/customer/jobs", json=own)
        assert r.status_code == 201 and r.json()["rollout_config"] == {"maximum_per_minute": 2}
        assert r.json()["abort_config"] is not None  # not given: the template's
    assert (await run_rollout_tick(app_pool, T0 + 1000 * MIN)).reached == 1 + 2

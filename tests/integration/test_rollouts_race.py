"""Aborts and retries racing device updates: devices claim, fail (and are retried) or succeed all at once
while rollout ticks release devices and abort the job. No execution is both retried and canceled, no QUEUED
execution is left behind in the canceled job, and counters equal real counts after every run."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.infra.db import connect
from shared.jobs.rollout import run_rollout_tick
from tests.conftest import Services, Tenant
from tests.integration.reliability.invariants import check_all

T0 = datetime(2036, 2, 1, tzinfo=UTC)
# what a device may be told when the job is aborted under it
LEGIT_REFUSALS = {"job_canceled", "not_reached", "not_allowed", "raced", "version_mismatch"}


@pytest.mark.parametrize("run", range(3))
async def test_aborts_and_retries_race_device_updates(
    clock: Services, tenant: Tenant, app_pool: asyncpg.Pool, run: int
) -> None:
    prefix = f"race{run}"
    devs = await tenant.create_devices(60, prefix=prefix)
    await tenant.create_group(prefix, devs)
    clock.set_clock(T0)
    job = {
        "document_type": "fw",
        "target_group_id": prefix,
        "job_id": prefix,
        "rollout_config": {"maximum_per_minute": 10},  # 6 minutes (ticks) to reach all 60
        "retry_config": {"criteria_list": [{"failure_type": "FAILED", "number_of_retries": 1}]},
        "abort_config": {"criteria_list": [{"failure_type": "FAILED", "threshold_percentage": 20,
                                            "min_number_of_executed_things": 5}]},
    }  # fmt: skip
    async with tenant.api() as api:
        assert (await api.post("/customer/jobs", json=job)).status_code == 201
    rng = random.Random(run)
    answers: Counter[str] = Counter()

    async def device(d: str) -> None:
        """Claims until reached, then finishes; claims again while retried; stops once refused for good."""
        async with tenant.device_api(d) as api:
            for _ in range(500):
                r = await api.put(f"/device/v1/jobs/{prefix}/execution", json={"status": "IN_PROGRESS"})
                if r.status_code != 200:
                    reason = r.json()["reason"]
                    answers[reason] += 1
                    if reason in ("not_reached", "raced"):
                        await asyncio.sleep(0.005 + rng.random() / 100)
                        continue
                    return
                await asyncio.sleep(rng.random() / 20)  # the work, while ticks go on
                end = "FAILED" if rng.random() < 0.7 else "SUCCEEDED"
                r = await api.put(f"/device/v1/jobs/{prefix}/execution", json={"status": end})
                answers[str(r.status_code) if r.status_code == 200 else r.json()["reason"]] += 1
                if end == "SUCCEEDED":
                    return

    done = asyncio.Event()

    async def ticks() -> None:
        minute = 0
        while not done.is_set():  # a minute of the rollout per tick, while the devices work
            await run_rollout_tick(app_pool, T0 + timedelta(minutes=minute))
            minute += 1
            await asyncio.sleep(0.005)

    async def fleet() -> None:
        await asyncio.gather(*(device(d) for d in devs))
        done.set()

    await asyncio.gather(ticks(), fleet())
    await run_rollout_tick(app_pool, T0 + timedelta(minutes=10))
    assert set(answers) - {"200"} <= LEGIT_REFUSALS, answers

    owner = await connect(clock.db.owner_url)
    try:
        await check_all(owner)
        state = await owner.fetchrow(
            "SELECT status, cancel_reason_code, queued_swept_at FROM jobs WHERE tenant_id = $1 AND job_id = $2",
            tenant.tenant_id,
            prefix,
        )
        assert state is not None and state["status"] == "CANCELED", (dict(state or {}), answers)
        assert state["cancel_reason_code"] == "ABORTED_FAILED" and state["queued_swept_at"] is not None
        left = await owner.fetchval(
            "SELECT count(*) FROM job_executions WHERE tenant_id = $1 AND job_id = $2 AND status = 'QUEUED'",
            tenant.tenant_id,
            prefix,
        )
        assert left == 0
        # a retry and a cancel of the same execution never both happen after the abort: each retried
        # execution's history ends in a status it reached by itself, or in the abort's cancel
        chains = await owner.fetch(
            "SELECT device_id, array_agg(to_status ORDER BY event_id) AS path FROM job_execution_events "
            "WHERE tenant_id = $1 AND job_id = $2 GROUP BY device_id",
            tenant.tenant_id,
            prefix,
        )
        for c in chains:
            path = list(c["path"])
            assert path.count("QUEUED") <= 1, path  # one retry at most (number_of_retries 1)
            assert path.count("CANCELED") <= 1 and (path[-1] == "CANCELED") == ("CANCELED" in path), path
    finally:
        await owner.close()

"""A cancel and a device's claim meeting on the same execution, in both orders, forced: a transaction holds
the execution's row lock while the first of them queues behind it. A claim first in line wins the row and
the cancel leaves it to its device. A cancel first has already made the job CANCELED when it queues for the
row, so the claim after it is refused at once by the job's status (reason job_canceled), without waiting;
the cancel then rejects the row. Counters and history stay exact either way."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from shared.infra.db import SET_TENANT, connect
from shared.jobs.states import COUNTER_COLUMNS
from tests.conftest import Services, Tenant
from tests.support.locks import until_waiting

ZERO = dict.fromkeys(COUNTER_COLUMNS.values(), 0)


@pytest.mark.parametrize("first", ["claim", "cancel"])
async def test_claim_and_cancel_queued_on_one_execution(
    services: Services, tenant: Tenant, first: str
) -> None:
    devs = await tenant.create_devices(3, prefix="cr")
    await tenant.create_group("cr", devs)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"document_type": "x", "target_group_id": "cr", "job_id": "cr"}
        )
        assert r.status_code == 201, r.text
    contested = devs[1]
    admin = await connect(services.db.admin_url)  # sees every session's wait
    holder = await connect(services.db.app_url)
    try:
        async with tenant.api() as api, tenant.device_api(contested) as device:

            def claim() -> Any:
                return device.put("/device/v1/jobs/cr/execution", json={"status": "IN_PROGRESS"})

            def cancel() -> Any:
                return api.request("DELETE", "/customer/jobs/cr", json={"reason": "race"})

            start = {"claim": claim, "cancel": cancel}
            second = "cancel" if first == "claim" else "claim"
            tx = holder.transaction()
            await tx.start()
            await holder.execute(SET_TENANT, tenant.tenant_id)
            await holder.execute(
                "SELECT 1 FROM job_executions WHERE job_id = 'cr' AND device_id = $1 FOR UPDATE", contested
            )
            tasks: dict[str, asyncio.Task[httpx.Response]] = {}
            tasks[first] = asyncio.create_task(start[first]())
            await until_waiting(admin, services.db.name, 1, tasks[first])
            tasks[second] = asyncio.create_task(start[second]())
            if first == "claim":
                await until_waiting(admin, services.db.name, 2, tasks[second])
            else:  # refused before the row is even locked: the job is already CANCELED
                refused = await tasks["claim"]
                assert refused.status_code == 409 and refused.json()["reason"] == "job_canceled", refused.text
                assert refused.json()["current"]["status"] == "QUEUED"  # the sweep is still waiting for it
            await tx.rollback()  # lets go: the first in line gets the row
            claimed, canceled = await tasks["claim"], await tasks["cancel"]
            assert canceled.status_code == 200, canceled.text
            if first == "claim":
                assert claimed.status_code == 200 and claimed.json()["status"] == "IN_PROGRESS", claimed.text
                assert canceled.json()["rejected_executions"] == 2  # the claimed one is left to its device
                done = await device.put("/device/v1/jobs/cr/execution", json={"status": "SUCCEEDED"})
                assert done.status_code == 200, done.text  # a started execution of a canceled job may finish
            else:
                assert claimed.status_code == 409
                assert canceled.json()["rejected_executions"] == 3
        async with tenant.api() as api:
            job = (await api.get("/customer/jobs/cr")).json()
            history = (await api.get(f"/customer/jobs/cr/executions/{contested}/events")).json()["events"]
    finally:
        await holder.close()
        await admin.close()
    moves = [(e["actor"], e["from_status"], e["to_status"]) for e in history]
    if first == "claim":
        assert moves == [("device", "QUEUED", "IN_PROGRESS"), ("device", "IN_PROGRESS", "SUCCEEDED")]
        assert job["counts"] == ZERO | {"rejected": 2, "succeeded": 1}
    else:
        assert moves == [("operator", "QUEUED", "REJECTED")]
        assert job["counts"] == ZERO | {"rejected": 3}
    assert job["status"] == "CANCELED"

"""AWS IoT Jobs' HTTPS data plane driven by unmodified boto3 (`iot-jobs-data`) against the live AWS API: a
device's pending list, start-next, describe and update with versions, over the same state machine as the
device API and MQTT; AWS's errors as botocore's exception classes; another thing's or tenant's executions
give errors, never data; racing updates move once. Every test ends with the invariant checker."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Tenant
from tests.integration.aws_support import aws, aws_server, call, create_job, device_client
from tests.integration.mqtt_support import exact_after
from tests.support.servers import LiveServer

__all__ = ["aws", "aws_server", "exact_after"]  # fixtures
pytestmark = pytest.mark.usefixtures("exact_after")


def _thing(tenant: Tenant, device_id: str) -> str:
    return f"{tenant.tenant_id}:{device_id}"


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


async def test_device_flow(aws: LiveServer, tenant: Tenant) -> None:
    (dev,) = await tenant.create_devices(1, prefix="dp")
    thing = _thing(tenant, dev)
    job1 = await create_job(tenant, target_device_id=dev, document_params={"url": "https://x/fw.bin", "n": 3})
    job2 = await create_job(tenant, target_device_id=dev, document_params={"step": "two"})
    c = device_client(aws, tenant, dev)

    pending = await call(c.get_pending_job_executions, thingName=thing)
    assert [j["jobId"] for j in pending["queuedJobs"]] == [job1, job2]
    async with tenant.api() as api:  # the call counts as the device being seen
        assert (await api.get(f"/customer/devices/{dev}")).json()["last_seen_at"] is not None
    assert pending["inProgressJobs"] == []
    assert pending["queuedJobs"][0]["versionNumber"] == 1 and pending["queuedJobs"][0]["executionNumber"] == 1

    started = await call(
        c.start_next_pending_job_execution,
        thingName=thing,
        statusDetails={"phase": "download"},
        stepTimeoutInMinutes=30,
    )
    ex = started["execution"]
    assert (ex["jobId"], ex["status"], ex["thingName"], ex["versionNumber"]) == (
        job1,
        "IN_PROGRESS",
        thing,
        2,
    )
    assert json.loads(ex["jobDocument"]) == {"url": "https://x/fw.bin", "n": 3}  # a JSON string, as AWS
    assert ex["statusDetails"] == {"phase": "download"}
    assert 0 < ex["approximateSecondsBeforeTimedOut"] <= 30 * 60

    described = await call(c.describe_job_execution, thingName=thing, jobId=job1, includeJobDocument=False)
    assert described["execution"]["versionNumber"] == 2 and "jobDocument" not in described["execution"]
    nxt = await call(c.describe_job_execution, thingName=thing, jobId="$next")
    assert nxt["execution"]["jobId"] == job1
    missing = await call(c.describe_job_execution, thingName=thing, jobId=job1, executionNumber=1)
    assert missing["execution"]["jobId"] == job1
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        await call(c.describe_job_execution, thingName=thing, jobId=job1, executionNumber=7)

    # a stale expectedVersion: refused with the current state, nothing changed
    with pytest.raises(c.exceptions.InvalidStateTransitionException) as err:
        await call(c.update_job_execution, thingName=thing, jobId=job1, status="SUCCEEDED", expectedVersion=1)
    assert "stale" in err.value.response["Error"]["Message"]
    described = await call(c.describe_job_execution, thingName=thing, jobId=job1)
    assert (described["execution"]["status"], described["execution"]["versionNumber"]) == ("IN_PROGRESS", 2)

    done = await call(
        c.update_job_execution,
        thingName=thing,
        jobId=job1,
        status="SUCCEEDED",
        expectedVersion=2,
        statusDetails={"result": "ok"},
        includeJobExecutionState=True,
        includeJobDocument=True,
    )
    assert done["executionState"] == {
        "status": "SUCCEEDED",
        "statusDetails": {"result": "ok"},
        "versionNumber": 3,
    }
    assert json.loads(done["jobDocument"]) == {"url": "https://x/fw.bin", "n": 3}
    quiet = await call(c.update_job_execution, thingName=thing, jobId=job2, status="IN_PROGRESS")
    assert "executionState" not in quiet and "jobDocument" not in quiet  # neither asked for

    # a terminal execution cannot move again
    with pytest.raises(c.exceptions.InvalidStateTransitionException) as err:
        await call(c.update_job_execution, thingName=thing, jobId=job1, status="IN_PROGRESS")
    assert "from SUCCEEDED to IN_PROGRESS" in err.value.response["Error"]["Message"]

    # the same execution as the device API sees it: one state machine
    async with tenant.device_api(dev) as api:
        r = await api.get(f"/device/v1/jobs/{job1}/execution")
        assert r.json()["status"] == "SUCCEEDED" and r.json()["execution_number"] == 3
        r = await api.put(f"/device/v1/jobs/{job2}/execution", json={"status": "FAILED"})
        assert r.status_code == 200, r.text
    pending = await call(c.get_pending_job_executions, thingName=thing)
    assert pending == {**pending, "inProgressJobs": [], "queuedJobs": []}
    nothing = await call(c.start_next_pending_job_execution, thingName=thing)
    assert "execution" not in nothing


async def test_errors_are_botocore_exception_classes(aws: LiveServer, tenant: Tenant) -> None:
    (dev,) = await tenant.create_devices(1, prefix="de")
    thing = _thing(tenant, dev)
    job = await create_job(tenant, target_device_id=dev)
    c = device_client(aws, tenant, dev)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        await call(c.describe_job_execution, thingName=thing, jobId="no-such-job")
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        await call(c.update_job_execution, thingName=thing, jobId="no-such-job", status="IN_PROGRESS")
    with pytest.raises(c.exceptions.InvalidStateTransitionException) as err:
        await call(c.update_job_execution, thingName=thing, jobId=job, status="QUEUED")
    assert "from QUEUED to QUEUED" in err.value.response["Error"]["Message"]
    with pytest.raises(c.exceptions.InvalidRequestException):  # botocore does not check enums; we do
        await call(c.update_job_execution, thingName=thing, jobId=job, status="BOGUS")
    with pytest.raises(c.exceptions.InvalidRequestException):  # a step timeout goes with IN_PROGRESS
        await call(
            c.update_job_execution, thingName=thing, jobId=job, status="FAILED", stepTimeoutInMinutes=5
        )
    async with tenant.api() as api:
        assert (await api.post(f"/customer/jobs/{job}/cancel", json={})).status_code == 200
    with pytest.raises((c.exceptions.TerminalStateException, c.exceptions.InvalidStateTransitionException)):
        await call(c.update_job_execution, thingName=thing, jobId=job, status="IN_PROGRESS")


async def test_other_things_and_tenants_get_errors_never_data(
    aws: LiveServer, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, neighbour = await tenant.create_devices(2, prefix="dx")
    (theirs,) = await other_tenant.create_devices(1, prefix="dx")
    their_job = await create_job(other_tenant, target_device_id=theirs, document_params={"secret": "s"})
    neighbour_job = await create_job(tenant, target_device_id=neighbour)
    c = device_client(aws, tenant, mine)
    for thing in (_thing(tenant, neighbour), _thing(other_tenant, theirs)):
        for fn, kw in (
            (c.get_pending_job_executions, {}),
            (c.start_next_pending_job_execution, {}),
            (c.describe_job_execution, {"jobId": their_job}),
            (c.update_job_execution, {"jobId": neighbour_job, "status": "SUCCEEDED"}),
        ):
            with pytest.raises(ClientError) as err:
                await call(fn, thingName=thing, **kw)
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            assert _code(err) == "ForbiddenException"
            assert "secret" not in json.dumps(err.value.response, default=str)
    # another tenant's job id, asked for on the device's own thing: not found
    own = _thing(tenant, mine)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        await call(c.describe_job_execution, thingName=own, jobId=their_job)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        await call(c.update_job_execution, thingName=own, jobId=their_job, status="SUCCEEDED")
    # nothing of theirs moved
    async with other_tenant.device_api(theirs) as api:
        assert (await api.get(f"/device/v1/jobs/{their_job}/execution")).json()["status"] == "QUEUED"
    async with tenant.device_api(neighbour) as api:
        assert (await api.get(f"/device/v1/jobs/{neighbour_job}/execution")).json()["status"] == "QUEUED"


async def test_racing_updates_with_one_expected_version_move_once(aws: LiveServer, tenant: Tenant) -> None:
    devs = await tenant.create_devices(4, prefix="dr")
    await tenant.create_group("race", devs)
    job = await create_job(tenant, target_group_id="race")
    clients = {d: [device_client(aws, tenant, d) for _ in range(5)] for d in devs}

    async def update(d: str, c: Any, target: str) -> str:
        try:
            await call(c.update_job_execution, thingName=_thing(tenant, d), jobId=job, status=target,
                       expectedVersion=1)  # fmt: skip
            return target
        except c.exceptions.InvalidStateTransitionException:
            return "refused"

    targets = ["IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "IN_PROGRESS"]
    results = await asyncio.gather(
        *(update(d, c, t) for d, cs in clients.items() for c, t in zip(cs, targets, strict=True))
    )
    winners = {}
    for i, d in enumerate(devs):
        mine = [r for r in results[i * 5 : i * 5 + 5] if r != "refused"]
        assert len(mine) == 1, (d, results[i * 5 : i * 5 + 5])  # exactly one move from version 1
        winners[d] = mine[0]
    async with tenant.api() as api:
        r = await api.get(f"/customer/jobs/{job}/executions")
        assert r.status_code == 200, r.text
        assert {e["device_id"]: e["status"] for e in r.json()["executions"]} == winners

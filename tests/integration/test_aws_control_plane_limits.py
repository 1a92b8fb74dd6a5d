"""AWS IoT's control plane with unmodified boto3: things in pages and deleted, a job's own document and
configs, UpdateJob and its effect on devices, the rate limit, quotas, and operators' calls racing devices
(counters exact, invariants checked after each test)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from aws_api.app import create_app as create_aws_app
from shared.infra.db import connect
from shared.quotas import set_quotas
from tests.conftest import Services, Tenant
from tests.integration import aws_support
from tests.integration.aws_control_support import group_arn, iot_for, thing_arn
from tests.integration.reliability.invariants import check_all
from tests.support.servers import LiveServer

aws_server = aws_support.aws_server  # the live AWS-compatible API (a session fixture)


@pytest.fixture(autouse=True)
async def exact_after(services: Services) -> AsyncIterator[None]:
    yield
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()


async def test_an_access_key_shares_its_owners_rate_limit(services: Services, tenant: Tenant) -> None:
    """Over the operator's limit (IOTCLOUD_OPERATOR_REQUESTS_PER_USER) the key gets ThrottlingException."""
    settings = services.settings.model_copy(update={"operator_requests_per_user": 3})
    server = await LiveServer(create_aws_app(settings, services.db.app_url)).start()
    now = datetime.now(UTC)
    server.app.state.clock = lambda: now  # every call in one rate window (and within SigV4's 5 minutes)
    try:
        iot = await iot_for(server, tenant)
        for _ in range(3):
            await iot("list_jobs")
        with pytest.raises(iot.errors.ThrottlingException):
            await iot("list_jobs")
    finally:
        await server.stop()


async def test_over_a_quota_is_limit_exceeded_and_stores_nothing(
    aws_server: LiveServer, services: Services, tenant: Tenant
) -> None:
    owner = await connect(services.db.owner_url)
    try:
        await set_quotas(owner, tenant.tenant_id, {"devices": 1, "active_jobs": 1})
    finally:
        await owner.close()
    iot = await iot_for(aws_server, tenant)
    await iot("create_thing", thingName="q1")
    with pytest.raises(iot.errors.LimitExceededException):
        await iot("create_thing", thingName="q2")
    await iot("create_job", jobId="q-job-1", targets=[thing_arn(tenant, "q1")], document="{}")
    with pytest.raises(iot.errors.LimitExceededException):
        await iot("create_job", jobId="q-job-2", targets=[thing_arn(tenant, "q1")], document="{}")
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("describe_thing", thingName="q2")
    assert [j["jobId"] for j in (await iot("list_jobs"))["jobs"]] == ["q-job-1"]


async def test_operators_boto3_calls_race_devices_and_counts_stay_exact(
    aws_server: LiveServer, services: Services, tenant: Tenant
) -> None:
    """Devices start and finish their executions while boto3 cancels some, deletes others, then force-
    cancels the job: DescribeJob's counts equal the executions' real statuses, nothing is left active, and
    every invariant holds (the autouse checker)."""
    iot = await iot_for(aws_server, tenant)
    devices = await tenant.create_devices(24, prefix="race")
    await iot("create_thing_group", thingGroupName="race")
    for name in devices:
        await iot("add_thing_to_thing_group", thingGroupName="race", thingName=name)
    await iot("create_job", jobId="race-1", targets=[group_arn(tenant, "race")], document="{}")

    async def device_runs(name: str) -> None:
        async with tenant.device_api(name) as d:
            for status in ("IN_PROGRESS", "SUCCEEDED"):
                r = await d.put("/device/v1/jobs/race-1/execution", json={"status": status})
                assert r.status_code in (200, 404, 409), r.text  # refused once the operator got there first
                if r.status_code != 200:
                    return

    async def operator_cancels(name: str) -> None:
        try:
            await iot("cancel_job_execution", jobId="race-1", thingName=name, force=True)
        except iot.errors.InvalidStateTransitionException:
            pass  # the device finished it first

    async def operator_deletes(name: str) -> None:
        for _ in range(20):  # a device's move between the delete's read and its delete: refused, retried
            try:
                await iot(
                    "delete_job_execution", jobId="race-1", thingName=name, executionNumber=1, force=True
                )
                return
            except iot.errors.InvalidStateTransitionException:
                await asyncio.sleep(0.01)
        raise AssertionError(f"the delete of {name}'s execution never got through")

    await asyncio.gather(
        *(device_runs(n) for n in devices[:-1]),  # the last one stays QUEUED: the job is still running
        *(operator_cancels(n) for n in devices[:8]),
        *(operator_deletes(n) for n in devices[8:12]),
    )
    await iot("cancel_job", jobId="race-1", force=True)
    job = (await iot("describe_job", jobId="race-1"))["job"]
    owner = await connect(services.db.owner_url)
    try:
        rows = await owner.fetch(
            "SELECT status, count(*) AS n FROM job_executions WHERE tenant_id = $1 AND job_id = 'race-1'"
            " GROUP BY status",
            tenant.tenant_id,
        )
    finally:
        await owner.close()
    real = {r["status"]: r["n"] for r in rows}
    details = job["jobProcessDetails"]
    names = {
        "CANCELED": "Canceled",
        "SUCCEEDED": "Succeeded",
        "FAILED": "Failed",
        "REJECTED": "Rejected",
        "QUEUED": "Queued",
        "IN_PROGRESS": "InProgress",
        "REMOVED": "Removed",
        "TIMED_OUT": "TimedOut",
    }
    assert {
        s: details[f"numberOf{n}Things"] for s, n in names.items() if details[f"numberOf{n}Things"]
    } == real
    assert sum(real.values()) == 20  # four deleted
    assert real.get("QUEUED", 0) == real.get("IN_PROGRESS", 0) == 0
    assert job["status"] == "CANCELED" and real["CANCELED"] >= 1


async def test_update_job_gives_a_running_job_retries_its_devices_get(
    aws_server: LiveServer, tenant: Tenant
) -> None:
    iot = await iot_for(aws_server, tenant)
    [dev] = await tenant.create_devices(1, prefix="upd")
    await iot("create_job", jobId="upd-1", targets=[thing_arn(tenant, dev)], document="{}")
    await iot(
        "update_job",
        jobId="upd-1",
        jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 1}]},
    )
    async with tenant.device_api(dev) as d:
        for status in ("IN_PROGRESS", "FAILED"):
            r = await d.put("/device/v1/jobs/upd-1/execution", json={"status": status})
            assert r.status_code == 200, r.text
    # the failure was retried: the execution is QUEUED again, at its first retry
    [summary] = (await iot("list_job_executions_for_job", jobId="upd-1"))["executionSummaries"]
    assert summary["jobExecutionSummary"]["status"] == "QUEUED"
    assert summary["jobExecutionSummary"]["retryAttempt"] == 1
    assert summary["jobExecutionSummary"]["executionNumber"] == 2  # its second attempt
    execution = (await iot("describe_job_execution", jobId="upd-1", thingName=dev))["execution"]
    assert (execution["executionNumber"], execution["versionNumber"]) == (
        2,
        4,
    )  # queued, started, failed, queued
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("describe_job_execution", jobId="upd-1", thingName=dev, executionNumber=1)
    with pytest.raises(iot.errors.ResourceNotFoundException):  # the first attempt is not the current one
        await iot("delete_job_execution", jobId="upd-1", thingName=dev, executionNumber=1, force=True)
    await iot("delete_job_execution", jobId="upd-1", thingName=dev, executionNumber=2, force=True)
    assert (await iot("describe_job", jobId="upd-1"))["job"]["status"] == "COMPLETED"


async def test_a_job_with_its_own_document_and_configs(aws_server: LiveServer, tenant: Tenant) -> None:
    iot = await iot_for(aws_server, tenant)
    await iot("create_thing", thingName="solo")
    job = await iot(
        "create_job",
        jobId="reboot-1",
        targets=[thing_arn(tenant, "solo")],
        document=json.dumps({"step": "reboot"}),
        jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]},
        schedulingConfig={"endTime": "2099-01-01T00:00", "endBehavior": "CANCEL"},
        description="reboot the solo",
    )
    assert job["description"] == "reboot the solo"
    described = (await iot("describe_job", jobId="reboot-1"))["job"]
    assert described["jobExecutionsRetryConfig"] == {
        "criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]
    }
    assert described["schedulingConfig"]["endBehavior"] == "CANCEL"
    assert described["targetSelection"] == "SNAPSHOT"
    jobs = await iot("list_jobs", status="IN_PROGRESS")
    assert [j["jobId"] for j in jobs["jobs"]] == ["reboot-1"]
    await iot("create_thing_group", thingGroupName="solos")
    await iot("add_thing_to_thing_group", thingGroupName="solos", thingName="solo")
    await iot("create_job", jobId="group-1", targets=[group_arn(tenant, "solos")], document="{}",
              targetSelection="CONTINUOUS")  # fmt: skip
    assert [j["jobId"] for j in (await iot("list_jobs", thingGroupName="solos"))["jobs"]] == ["group-1"]
    assert [j["jobId"] for j in (await iot("list_jobs", targetSelection="SNAPSHOT"))["jobs"]] == ["reboot-1"]
    first = await iot("list_jobs", maxResults=1)
    second = await iot("list_jobs", maxResults=1, nextToken=first["nextToken"])
    assert [j["jobId"] for j in first["jobs"] + second["jobs"]] == ["group-1", "reboot-1"]
    assert "nextToken" not in second
    await iot("cancel_job", jobId="group-1")
    await iot("delete_job", jobId="group-1")
    # the document's type: its `operation`, else aws-job (docs/aws-compat.md)
    async with tenant.api() as api:
        r = await api.get("/customer/jobs/reboot-1")
        assert r.json()["document_type"] == "aws-job"
        assert r.json()["document_params"] == {"step": "reboot"}
    # UpdateJob: abort, retry and timeout configs of a running job
    abort = {"criteriaList": [{"failureType": "ALL", "action": "CANCEL", "thresholdPercentage": 20.0,
                               "minNumberOfExecutedThings": 1}]}  # fmt: skip
    await iot(
        "update_job",
        jobId="reboot-1",
        abortConfig=abort,
        jobExecutionsRetryConfig={"criteriaList": [{"failureType": "ALL", "numberOfRetries": 1}]},
        timeoutConfig={"inProgressTimeoutInMinutes": 15},
    )
    described = (await iot("describe_job", jobId="reboot-1"))["job"]
    assert described["abortConfig"] == abort
    assert described["jobExecutionsRetryConfig"] == {
        "criteriaList": [{"failureType": "ALL", "numberOfRetries": 1}]
    }
    assert described["timeoutConfig"] == {"inProgressTimeoutInMinutes": 15}
    with pytest.raises(iot.errors.InvalidRequestException):
        await iot("update_job", jobId="reboot-1", jobExecutionsRolloutConfig={"maximumPerMinute": 5})
    with pytest.raises(iot.errors.InvalidRequestException):
        await iot("update_job", jobId="reboot-1", timeoutConfig={"inProgressTimeoutInMinutes": 99999})
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("update_job", jobId="nope", timeoutConfig={"inProgressTimeoutInMinutes": 5})
    async with tenant.api() as api:
        r = await api.get("/customer/audit", params={"action": "job.updated"})
        [entry] = r.json()["entries"]
        assert entry["actor"].startswith("access-key:AKIA") and entry["target_id"] == "reboot-1"
        assert entry["details"]["changed"] == ["abort_config", "in_progress_timeout_minutes", "retry_config"]
    with pytest.raises(iot.errors.InvalidStateTransitionException):
        await iot("delete_job", jobId="reboot-1")  # IN_PROGRESS with a QUEUED execution: force needed
    await iot("delete_job", jobId="reboot-1", force=True)
    assert (await iot("list_jobs"))["jobs"] == []


async def test_things_are_listed_in_pages_and_deleted_things_are_gone(
    aws_server: LiveServer, tenant: Tenant
) -> None:
    iot = await iot_for(aws_server, tenant)
    for i in range(5):
        await iot("create_thing", thingName=f"p-{i}")
    names: list[str] = []
    token: dict[str, str] = {}
    for _ in range(3):
        page = await iot("list_things", maxResults=2, **token)
        names += [t["thingName"] for t in page["things"]]
        token = {"nextToken": page["nextToken"]} if "nextToken" in page else {}
    assert sorted(names) == [f"p-{i}" for i in range(5)] and token == {}
    paginated = await asyncio.to_thread(
        lambda: [
            t["thingName"]
            for p in iot.client.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 2})
            for t in p["things"]
        ]
    )
    assert sorted(paginated) == sorted(names)

    await iot("delete_thing", thingName="p-0")
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("describe_thing", thingName="p-0")
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("delete_thing", thingName="p-0")
    with pytest.raises(iot.errors.ResourceNotFoundException):  # a deleted thing is no target
        await iot("create_job", jobId="to-p0", targets=[thing_arn(tenant, "p-0")], document="{}")
    assert "p-0" not in [t["thingName"] for t in (await iot("list_things"))["things"]]
    async with tenant.api() as api:  # iotcloud keeps the device, REVOKED
        assert (await api.get("/customer/devices/p-0")).json()["status"] == "REVOKED"

"""AWS IoT's control plane with unmodified boto3 (`iot` client): a live AWS-compatible API on a free port,
signed requests with an operator's access key, and every answer or error as botocore expects it (the
exception classes AWS's own service raises). The invariant checker runs after each test. Paged things, jobs
with their own documents, UpdateJob, limits and races: test_aws_control_plane_limits.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from shared.infra.db import connect, tenant_tx
from shared.jobs.rollout import run_rollout_tick
from tests.conftest import Services, Tenant
from tests.integration import aws_support
from tests.integration.aws_control_support import Iot, group_arn, iot_for, thing_arn, viewer_of
from tests.integration.aws_support import client
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


async def test_a_script_runs_a_fleet_job_from_a_template(
    aws_server: LiveServer, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    iot = await iot_for(aws_server, tenant)

    out = await iot(
        "create_thing_group", thingGroupName="cams", thingGroupProperties={"thingGroupDescription": "lobby"}
    )
    assert out["thingGroupArn"] == group_arn(tenant, "cams")
    # two things made through AWS, two devices made with iotcloud's API (they get tokens and run the job)
    for name in ("aws-cam-1", "aws-cam-2"):
        made = await iot("create_thing", thingName=name, attributePayload={"attributes": {"floor": "2"}})
        assert made["thingArn"] == thing_arn(tenant, name)
    running = await tenant.create_devices(2, prefix="run")
    await iot("add_thing_to_thing_group", thingGroupName="cams", thingName="aws-cam-1")
    await iot(
        "add_thing_to_thing_group",
        thingGroupArn=group_arn(tenant, "cams"),
        thingArn=thing_arn(tenant, "aws-cam-2"),
    )
    for name in running:
        await iot("add_thing_to_thing_group", thingGroupName="cams", thingName=name)

    thing = await iot("describe_thing", thingName="aws-cam-1")
    assert (thing["thingName"], thing["attributes"]) == ("aws-cam-1", {"floor": "2"})
    group = await iot("describe_thing_group", thingGroupName="cams")
    assert group["thingGroupProperties"]["thingGroupDescription"] == "lobby"
    page = await iot("list_things_in_thing_group", thingGroupName="cams", maxResults=3)
    rest = await iot(
        "list_things_in_thing_group", thingGroupName="cams", maxResults=3, nextToken=page["nextToken"]
    )
    assert sorted(page["things"] + rest["things"]) == sorted(["aws-cam-1", "aws-cam-2", *running])
    assert "nextToken" not in rest

    document = {"operation": "firmware", "url": "https://fw.example/${aws:iot:parameter:version}.bin"}
    rollout = {
        "maximumPerMinute": 10,
        "exponentialRate": {
            "baseRatePerMinute": 5,
            "incrementFactor": 2.0,
            "rateIncreaseCriteria": {"numberOfSucceededThings": 1},
        },
    }
    abort = {
        "criteriaList": [
            {
                "failureType": "FAILED",
                "action": "CANCEL",
                "thresholdPercentage": 50.0,
                "minNumberOfExecutedThings": 2,
            }
        ]
    }
    made = await iot(
        "create_job_template",
        jobTemplateId="fw-update",
        description="firmware",
        document=json.dumps(document),
        jobExecutionsRolloutConfig=rollout,
        abortConfig=abort,
        timeoutConfig={"inProgressTimeoutInMinutes": 30},
    )
    template = await iot("describe_job_template", jobTemplateId="fw-update")
    assert template["jobExecutionsRolloutConfig"] == rollout and template["abortConfig"] == abort
    assert json.loads(template["document"]) == document
    listed = await iot("list_job_templates")
    assert [t["jobTemplateId"] for t in listed["jobTemplates"]] == ["fw-update"]

    job = await iot(
        "create_job",
        jobId="fw-42",
        targets=[group_arn(tenant, "cams")],
        jobTemplateArn=made["jobTemplateArn"],
        documentParameters={"version": "4.2"},
    )
    assert job["jobArn"] == f"arn:aws:iot:us-east-1:{tenant.tenant_id}:job/fw-42"
    described = (await iot("describe_job", jobId="fw-42"))["job"]
    assert described["status"] == "IN_PROGRESS"
    assert described["targets"] == [group_arn(tenant, "cams")]
    assert described["jobExecutionsRolloutConfig"] == rollout and described["abortConfig"] == abort
    assert described["timeoutConfig"] == {"inProgressTimeoutInMinutes": 30}
    assert described["jobTemplateArn"] == made["jobTemplateArn"]
    assert described["jobProcessDetails"]["numberOfQueuedThings"] == 4
    doc = await iot("get_job_document", jobId="fw-42")
    assert json.loads(doc["document"])["url"] == "https://fw.example/4.2.bin"
    doc = await iot("get_job_document", jobId="fw-42", beforeSubstitution=True)
    assert json.loads(doc["document"]) == document

    # the rollout reaches the four devices in its first minute (SigV4 checks the clock: the servers run on
    # the real time); a device of iotcloud's starts its execution
    # (the tick also serves other tests' tenants in this database: count only this job's)
    assert (await run_rollout_tick(app_pool, datetime.now(UTC))).reached >= 4
    async with tenant_tx(app_pool, tenant.tenant_id) as conn:
        assert await conn.fetchval("SELECT released_upto FROM jobs WHERE job_id = 'fw-42'") == 4
    async with tenant.device_api(running[0]) as d:
        r = await d.put("/device/v1/jobs/fw-42/execution", json={"status": "IN_PROGRESS"})
        assert r.status_code == 200, r.text
    first = await iot("list_job_executions_for_job", jobId="fw-42", maxResults=3)
    second = await iot(
        "list_job_executions_for_job", jobId="fw-42", maxResults=3, nextToken=first["nextToken"]
    )
    arns = [e["thingArn"] for e in first["executionSummaries"] + second["executionSummaries"]]
    assert sorted(arns) == sorted(thing_arn(tenant, n) for n in ["aws-cam-1", "aws-cam-2", *running])
    statuses = {
        e["thingArn"]: e["jobExecutionSummary"]["status"]
        for e in first["executionSummaries"] + second["executionSummaries"]
    }
    assert [n for n in running if statuses[thing_arn(tenant, n)] == "IN_PROGRESS"] == running[:1]
    with pytest.raises(iot.errors.InvalidStateTransitionException):  # IN_PROGRESS: only with force
        await iot("cancel_job_execution", jobId="fw-42", thingName=running[0])

    for_thing = await iot("list_job_executions_for_thing", thingName="aws-cam-1")
    assert [(e["jobId"], e["jobExecutionSummary"]["status"]) for e in for_thing["executionSummaries"]] == [
        ("fw-42", "QUEUED")
    ]
    execution = (await iot("describe_job_execution", jobId="fw-42", thingName="aws-cam-1"))["execution"]
    assert (execution["status"], execution["executionNumber"], execution["thingArn"]) == (
        "QUEUED",
        1,
        thing_arn(tenant, "aws-cam-1"),
    )

    # one execution canceled by hand, then the job: QUEUED executions become CANCELED
    await iot("cancel_job_execution", jobId="fw-42", thingName="aws-cam-1")
    execution = (await iot("describe_job_execution", jobId="fw-42", thingName="aws-cam-1"))["execution"]
    assert execution["status"] == "CANCELED"
    await iot("cancel_job", jobId="fw-42", reasonCode="BAD_BUILD", comment="rolled back", force=True)
    described = (await iot("describe_job", jobId="fw-42"))["job"]
    assert (described["status"], described["reasonCode"], described["comment"]) == (
        "CANCELED",
        "BAD_BUILD",
        "rolled back",
    )
    assert described["forceCanceled"] is True
    counts = described["jobProcessDetails"]
    assert counts["numberOfCanceledThings"] == 4 and counts["numberOfQueuedThings"] == 0, counts
    assert counts["numberOfInProgressThings"] == 0

    await iot("delete_job_execution", jobId="fw-42", thingName="aws-cam-1", executionNumber=1)
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("describe_job_execution", jobId="fw-42", thingName="aws-cam-1")
    assert (await iot("describe_job", jobId="fw-42"))["job"]["jobProcessDetails"][
        "numberOfCanceledThings"
    ] == 3

    await iot("delete_job", jobId="fw-42")
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("describe_job", jobId="fw-42")
    await iot("delete_job_template", jobTemplateId="fw-update")
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("describe_job_template", jobTemplateId="fw-update")

    await iot("remove_thing_from_thing_group", thingGroupName="cams", thingName="aws-cam-2")
    await iot("remove_thing_from_thing_group", thingGroupName="cams", thingName="aws-cam-2")  # again: fine
    assert "aws-cam-2" not in (await iot("list_things_in_thing_group", thingGroupName="cams"))["things"]

    for name in ("cam-b", "cam-c", "dock"):
        await iot("create_thing_group", thingGroupName=name)
    first = await iot("list_thing_groups", namePrefixFilter="cam", maxResults=2)
    second = await iot(
        "list_thing_groups", namePrefixFilter="cam", maxResults=2, nextToken=first["nextToken"]
    )
    assert [g["groupName"] for g in first["thingGroups"] + second["thingGroups"]] == [
        "cam-b",
        "cam-c",
        "cams",
    ]
    assert second["thingGroups"][0]["groupArn"] == group_arn(tenant, "cams") and "nextToken" not in second
    await iot("add_thing_to_thing_group", thingGroupName="dock", thingName="aws-cam-1")
    of_thing = await iot("list_thing_groups_for_thing", thingName="aws-cam-1", maxResults=1)
    rest = await iot("list_thing_groups_for_thing", thingName="aws-cam-1", nextToken=of_thing["nextToken"])
    assert [g["groupName"] for g in of_thing["thingGroups"] + rest["thingGroups"]] == ["cams", "dock"]
    await iot("delete_thing_group", thingGroupName="cams")
    await iot("delete_thing_group", thingGroupName="cams")  # gone already: fine, as AWS
    with pytest.raises(iot.errors.ResourceNotFoundException):
        await iot("describe_thing_group", thingGroupName="cams")
    assert "cams" not in [g["groupName"] for g in (await iot("list_thing_groups"))["thingGroups"]]


async def test_each_error_is_the_exception_aws_raises(
    aws_server: LiveServer, tenant: Tenant, other_tenant: Tenant
) -> None:
    iot = await iot_for(aws_server, tenant)
    await iot("create_thing_group", thingGroupName="g")
    await iot("create_thing", thingName="t1")
    await iot("add_thing_to_thing_group", thingGroupName="g", thingName="t1")
    target = [group_arn(tenant, "g")]
    await iot("create_job", jobId="j1", targets=target, document="{}")

    not_found = iot.errors.ResourceNotFoundException
    cases: list[tuple[str, dict[str, Any]]] = [
        ("describe_thing", {"thingName": "nope"}),
        ("describe_thing_group", {"thingGroupName": "nope"}),
        ("describe_job", {"jobId": "nope"}),
        ("get_job_document", {"jobId": "nope"}),
        ("list_job_executions_for_job", {"jobId": "nope"}),
        ("list_job_executions_for_thing", {"thingName": "nope"}),
        ("describe_job_execution", {"jobId": "j1", "thingName": "nope"}),
        ("cancel_job", {"jobId": "nope"}),
        ("delete_job", {"jobId": "nope"}),
        ("cancel_job_execution", {"jobId": "j1", "thingName": "nope"}),
        ("delete_job_execution", {"jobId": "j1", "thingName": "nope", "executionNumber": 1}),
        ("describe_job_template", {"jobTemplateId": "nope"}),
        ("delete_job_template", {"jobTemplateId": "nope"}),
        ("add_thing_to_thing_group", {"thingGroupName": "nope", "thingName": "t1"}),
        ("add_thing_to_thing_group", {"thingGroupName": "g", "thingName": "nope"}),
        ("list_things_in_thing_group", {"thingGroupName": "nope"}),
        ("list_policies", {}),  # an operation iotcloud does not have (docs/aws-compat.md)
        ("create_job", {"jobId": "j2", "targets": [group_arn(tenant, "nope")], "document": "{}"}),
    ]
    for op, kw in cases:
        with pytest.raises(not_found):
            await iot(op, **kw)

    invalid = iot.errors.InvalidRequestException
    cases = [
        ("create_job", {"jobId": "j3", "targets": target, "document": "not json"}),
        ("create_job", {"jobId": "j3", "targets": target, "document": "[1]"}),
        ("create_job", {"jobId": "j3", "targets": target}),
        ("create_job", {"jobId": "j3", "targets": [*target, thing_arn(tenant, "t1")], "document": "{}"}),
        ("create_job", {"jobId": "j3", "targets": [group_arn(other_tenant, "g")], "document": "{}"}),
        ("create_job", {"jobId": "j3", "targets": ["arn:aws:s3:::bucket"], "document": "{}"}),
        (
            "create_job",
            {
                "jobId": "j3",
                "targets": target,
                "document": "{}",
                "jobExecutionsRolloutConfig": {
                    "maximumPerMinute": 2,
                    "exponentialRate": {
                        "baseRatePerMinute": 5,
                        "incrementFactor": 2.0,
                        "rateIncreaseCriteria": {"numberOfNotifiedThings": 1},
                    },
                },
            },
        ),
        (
            "create_job",
            {
                "jobId": "j3",
                "targets": target,
                "document": "{}",
                "abortConfig": {
                    "criteriaList": [
                        {
                            "failureType": "FAILED",
                            "action": "CANCEL",
                            "thresholdPercentage": 150.0,
                            "minNumberOfExecutedThings": 1,
                        }
                    ]
                },
            },
        ),
        (
            "create_job",
            {
                "jobId": "j3",
                "targets": target,
                "document": "{}",
                "timeoutConfig": {"inProgressTimeoutInMinutes": 20000},
            },
        ),
        (
            "create_job",
            {"jobId": "j3", "targets": target, "document": "{}", "documentParameters": {"a": "b"}},
        ),
        ("create_job", {"jobId": "bad id!", "targets": target, "document": "{}"}),
        ("create_thing", {"thingName": "bad name!"}),
        ("list_things", {"nextToken": "garbage"}),
        ("list_things", {"nextToken": "eyJvZmZzZXQiOi01fQ=="}),  # {"offset":-5}
        ("list_job_executions_for_job", {"jobId": "j1", "nextToken": "eyJhZnRlciI6MX0="}),  # {"after":1}
        ("cancel_job_execution", {"jobId": "j1", "thingName": "t1", "expectedVersion": 2**40}),
        ("create_thing", {"thingName": "nul", "attributePayload": {"attributes": {"a": "x\u0000y"}}}),
        ("create_job", {"jobId": "j4", "targets": target, "document": '{"a": "\\u0000"}'}),
        ("list_jobs", {"status": "DELETION_IN_PROGRESS", "nextToken": "e30="}),
        ("cancel_job", {"jobId": "j1", "reasonCode": "not upper"}),
    ]
    for op, kw in cases:
        with pytest.raises(invalid):
            await iot(op, **kw)
    with pytest.raises(not_found):  # nothing was made by a refused request
        await iot("describe_thing", thingName="nul")
    async with tenant.api() as api:
        assert [j["job_id"] for j in (await api.get("/customer/jobs")).json()["jobs"]] == ["j1"]

    with pytest.raises(iot.errors.ResourceAlreadyExistsException):
        await iot("create_thing", thingName="t1")
    with pytest.raises(iot.errors.ResourceAlreadyExistsException):
        await iot("create_thing_group", thingGroupName="g")
    with pytest.raises(iot.errors.ResourceAlreadyExistsException):
        await iot("create_job", jobId="j1", targets=target, document="{}")
    await iot("create_job_template", jobTemplateId="tpl", description="d", document="{}")
    with pytest.raises(iot.errors.ConflictException):
        await iot("create_job_template", jobTemplateId="tpl", description="d", document="{}")
    with pytest.raises(iot.errors.VersionConflictException):
        await iot("cancel_job_execution", jobId="j1", thingName="t1", expectedVersion=7)
    with pytest.raises(iot.errors.InvalidStateTransitionException):
        await iot("delete_job", jobId="j1")
    await iot("cancel_job", jobId="j1")
    with pytest.raises(invalid):
        await iot("cancel_job", jobId="j1")  # already canceled
    with pytest.raises(invalid):
        await iot("update_job", jobId="j1", timeoutConfig={"inProgressTimeoutInMinutes": 5})  # finished
    with pytest.raises(iot.errors.InvalidStateTransitionException):
        await iot("cancel_job_execution", jobId="j1", thingName="t1")  # already CANCELED

    # another tenant's key sees none of it; a viewer's key changes nothing
    other = await iot_for(aws_server, other_tenant)
    with pytest.raises(not_found):
        await other("describe_job", jobId="j1")
    with pytest.raises(not_found):
        await other("describe_thing", thingName="t1")
    assert (await other("list_jobs"))["jobs"] == []
    for op, kw in [
        ("delete_job", {"jobId": "j1", "force": True}),
        ("delete_thing", {"thingName": "t1"}),
        ("add_thing_to_thing_group", {"thingGroupName": "g", "thingName": "t1"}),
        ("delete_job_template", {"jobTemplateId": "tpl"}),
    ]:
        with pytest.raises(not_found):
            await other(op, **kw)
    assert (await iot("describe_job", jobId="j1"))["job"]["status"] == "CANCELED"  # untouched
    assert (await iot("describe_thing", thingName="t1"))["thingName"] == "t1"
    assert (await iot("describe_job_template", jobTemplateId="tpl"))["jobTemplateId"] == "tpl"
    # a device's credentials (thing name, token hash) are for the data plane only
    [dev] = await tenant.create_devices(1, prefix="signer")
    secret = hashlib.sha256(tenant.tokens[dev].encode()).hexdigest()
    device = Iot(client(aws_server, "iot", f"{tenant.tenant_id}:{dev}", secret))
    with pytest.raises(device.errors.UnauthorizedException):
        await device("list_jobs")
    viewer = await iot_for(aws_server, await viewer_of(tenant))
    assert (await viewer("describe_job", jobId="j1"))["job"]["status"] == "CANCELED"
    with pytest.raises(viewer.errors.UnauthorizedException):
        await viewer("create_thing", thingName="t9")
    with pytest.raises(viewer.errors.UnauthorizedException):
        await viewer("delete_job", jobId="j1", force=True)
    with pytest.raises(not_found):
        await iot("describe_thing", thingName="t9")

"""The control plane as `iotcloud up` serves it (embedded PostgreSQL, its worker on a short rollout tick):
an unmodified boto3 `iot` script, signed with a key from `iotcloud create-access-key`, makes a thing group
of the demo devices, a job template with rollout and abort configs and a job from it; the worker's rollout
reaches the devices, which run their executions with boto3 `iot-jobs-data`; the script lists and describes
executions, then cancels and deletes a second job."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from tests.support.stack import Stack, iotcloud_up

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with iotcloud_up(tmp_path_factory.mktemp("awsctlhome"), {"IOTCLOUD_ROLLOUT_TICK_SECONDS": "0.2"}) as s:
        yield s


def _until(check: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {check}")


def _client(stack: Stack, service: str, key_id: str, secret: str) -> Any:
    return boto3.client(service, endpoint_url=stack.aws, region_name=REGION, aws_access_key_id=key_id,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))  # fmt: skip


def test_a_boto3_script_runs_a_rollout_from_a_template_on_iotcloud_up(stack: Stack) -> None:
    out = stack.cli("create-access-key", "--tenant", "demo", "--email", "admin@demo.local")
    key = dict(line.split(" = ") for line in out.splitlines() if " = " in line)
    iot = _client(stack, "iot", key["aws_access_key_id"], key["aws_secret_access_key"])
    tokens: dict[str, str] = json.loads((stack.home / "demo-tokens.json").read_text())
    things = sorted(tokens)[:3]

    iot.create_thing_group(thingGroupName="lobby")
    for thing in things:
        iot.add_thing_to_thing_group(thingGroupName="lobby", thingName=thing)
    assert sorted(iot.list_things_in_thing_group(thingGroupName="lobby")["things"]) == things
    template = iot.create_job_template(
        jobTemplateId="fw",
        description="firmware",
        document=json.dumps({"operation": "firmware", "version": "${aws:iot:parameter:version}"}),
        jobExecutionsRolloutConfig={"maximumPerMinute": 100},
        abortConfig={
            "criteriaList": [
                {
                    "failureType": "FAILED",
                    "action": "CANCEL",
                    "thresholdPercentage": 50.0,
                    "minNumberOfExecutedThings": 2,
                }
            ]
        },
    )
    group_arn = f"arn:aws:iot:{REGION}:demo:thinggroup/lobby"
    iot.create_job(jobId="fw-1", targets=[group_arn], jobTemplateArn=template["jobTemplateArn"],
                   documentParameters={"version": "5.0"})  # fmt: skip

    # the worker's rollout tick reaches the devices; each runs its execution over the HTTPS data plane
    for thing in things:
        device = _client(
            stack, "iot-jobs-data", f"demo:{thing}", hashlib.sha256(tokens[thing].encode()).hexdigest()
        )
        started = _until(lambda d=device, t=thing: d.start_next_pending_job_execution(thingName=f"demo:{t}").get("execution"))  # fmt: skip
        assert started["jobId"] == "fw-1" and json.loads(started["jobDocument"])["version"] == "5.0"
        device.update_job_execution(jobId="fw-1", thingName=f"demo:{thing}", status="SUCCEEDED",
                                    expectedVersion=started["versionNumber"])  # fmt: skip

    job = iot.describe_job(jobId="fw-1")["job"]
    assert job["status"] == "COMPLETED" and job["jobProcessDetails"]["numberOfSucceededThings"] == 3
    summaries = iot.list_job_executions_for_job(jobId="fw-1")["executionSummaries"]
    assert {s["jobExecutionSummary"]["status"] for s in summaries} == {"SUCCEEDED"}
    execution = iot.describe_job_execution(jobId="fw-1", thingName=things[0])["execution"]
    assert execution["status"] == "SUCCEEDED"
    assert [e["jobId"] for e in iot.list_job_executions_for_thing(thingName=things[0])["executionSummaries"]] == ["fw-1"]  # fmt: skip

    # a second job is canceled while queued, then deleted with its executions
    iot.create_job(jobId="fw-2", targets=[group_arn], jobTemplateArn=template["jobTemplateArn"],
                   documentParameters={"version": "5.1"})  # fmt: skip
    iot.cancel_job(jobId="fw-2", reasonCode="SUPERSEDED", comment="5.2 instead")
    job = iot.describe_job(jobId="fw-2")["job"]
    assert job["status"] == "CANCELED" and job["jobProcessDetails"]["numberOfCanceledThings"] == 3
    iot.delete_job(jobId="fw-2")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_job(jobId="fw-2")
    iot.delete_job_template(jobTemplateId="fw")


def test_the_docs_control_plane_snippet_runs_as_written(stack: Stack) -> None:
    doc = (ROOT / "docs" / "aws-compat.md").read_text()
    start = doc.index("## Control plane (boto3 `iot`)")
    match = re.search(r"```python\n(.*?)```", doc[start:], re.S)
    assert match is not None
    out = stack.cli("create-access-key", "--tenant", "demo", "--email", "admin@demo.local")
    key = dict(line.split(" = ") for line in out.splitlines() if " = " in line)
    env = {**stack.env, "IOTCLOUD_AWS_PORT": str(urlsplit(stack.aws).port),
           "AWS_ACCESS_KEY_ID": key["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": key["aws_secret_access_key"]}  # fmt: skip
    ran = subprocess.run([sys.executable, "-c", match.group(1)], env=env, cwd=stack.home, capture_output=True,
                         text=True, timeout=120, check=False)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    queued, document = ran.stdout.splitlines()
    assert queued == "2"
    assert json.loads(document) == {"operation": "firmware", "url": "https://fw.example/4.2.bin"}

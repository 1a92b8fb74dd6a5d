"""AWS IoT Jobs' shapes (botocore's iot model) and iotcloud's: the configs' names are the same in camelCase
(shared/jobs/configs.py holds them in snake_case), a job's `document` is our document_params (a JSON
string), and its document_type is the document's `operation` field (AWS's convention for jobs that the
AWS IoT Device SDK's job handlers dispatch on) when it is a non-empty string, else DEFAULT_DOCUMENT_TYPE."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from aws_api.control.arns import arn, compact, epoch
from aws_api.control.context import INVALID, aws_error, validated
from shared.jobs.configs import AbortConfig, RetryConfig, RolloutConfig, SchedulingConfig

DEFAULT_DOCUMENT_TYPE = "aws-job"
MAX_DOCUMENT = 32 * 1024

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(value: Any) -> Any:
    """camelCase keys (at any depth) to snake_case."""
    if isinstance(value, dict):
        return {_CAMEL.sub("_", k).lower(): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


class CreateJobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: list[str]
    document: str | None = None
    documentSource: str | None = None
    description: str | None = None
    presignedUrlConfig: dict[str, Any] | None = None
    targetSelection: str = "SNAPSHOT"
    jobExecutionsRolloutConfig: dict[str, Any] | None = None
    abortConfig: dict[str, Any] | None = None
    timeoutConfig: dict[str, Any] | None = None
    tags: list[dict[str, str]] | None = None
    namespaceId: str | None = None
    jobTemplateArn: str | None = None
    jobExecutionsRetryConfig: dict[str, Any] | None = None
    documentParameters: dict[str, str] | None = None
    schedulingConfig: dict[str, Any] | None = None
    destinationPackageVersions: list[str] | None = None


class CreateJobTemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str
    jobArn: str | None = None
    document: str | None = None
    documentSource: str | None = None
    presignedUrlConfig: dict[str, Any] | None = None
    jobExecutionsRolloutConfig: dict[str, Any] | None = None
    abortConfig: dict[str, Any] | None = None
    timeoutConfig: dict[str, Any] | None = None
    tags: list[dict[str, str]] | None = None
    jobExecutionsRetryConfig: dict[str, Any] | None = None
    maintenanceWindows: list[dict[str, Any]] | None = None
    destinationPackageVersions: list[str] | None = None


UNSUPPORTED = ("documentSource", "presignedUrlConfig", "namespaceId", "destinationPackageVersions", "jobArn")


def refuse_unsupported(body: BaseModel) -> None:
    for name in UNSUPPORTED:
        if getattr(body, name, None):
            raise aws_error(INVALID, f"{name} is not supported by iotcloud (see docs/aws-compat.md)")


def parse_document(text: str) -> dict[str, Any]:
    if len(text.encode()) > MAX_DOCUMENT:
        raise aws_error(INVALID, f"document is over {MAX_DOCUMENT} bytes")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise aws_error(INVALID, "document is not JSON") from exc
    if not isinstance(document, dict):
        raise aws_error(INVALID, "document must be a JSON object")
    return document


def document_type(document: dict[str, Any]) -> str:
    operation = document.get("operation")
    if isinstance(operation, str) and 0 < len(operation) <= 100 and "\x00" not in operation:
        return operation
    return DEFAULT_DOCUMENT_TYPE


def _aws_time(value: Any) -> Any:
    """AWS's schedule times are `yyyy-MM-dd'T'HH:mm` in UTC: without a zone, they are UTC."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?", value):
        return value + "Z"
    return value


def configs(body: CreateJobIn | CreateJobTemplateIn) -> dict[str, Any]:
    """The four configs as shared/jobs/configs.py's models (None where not given)."""
    schedule: dict[str, Any] | None = snake(getattr(body, "schedulingConfig", None))
    windows = getattr(body, "maintenanceWindows", None)
    if windows:
        schedule = {**(schedule or {}), "maintenance_windows": snake(windows)}
    if schedule:
        schedule = {k: _aws_time(v) if k in ("start_time", "end_time") else v for k, v in schedule.items()}
    given: dict[str, tuple[type[BaseModel], Any]] = {
        "rollout_config": (RolloutConfig, snake(body.jobExecutionsRolloutConfig)),
        "abort_config": (AbortConfig, snake(body.abortConfig)),
        "retry_config": (RetryConfig, snake(body.jobExecutionsRetryConfig)),
        "scheduling_config": (SchedulingConfig, schedule),
    }
    return {name: validated(model, data) if data else None for name, (model, data) in given.items()}


def timeout_minutes(timeout: dict[str, Any] | None) -> int | None:
    if not timeout:
        return None
    minutes = timeout.get("inProgressTimeoutInMinutes")
    if minutes is None:
        return None
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 7 * 24 * 60:
        raise aws_error(INVALID, "timeoutConfig.inProgressTimeoutInMinutes must be from 1 to 10080")
    return minutes


def process_details(counts: dict[str, int]) -> dict[str, Any]:
    return {
        "numberOfCanceledThings": counts["canceled"],
        "numberOfSucceededThings": counts["succeeded"],
        "numberOfFailedThings": counts["failed"],
        "numberOfRejectedThings": counts["rejected"],
        "numberOfQueuedThings": counts["queued"],
        "numberOfInProgressThings": counts["in_progress"],
        "numberOfRemovedThings": counts["removed"],
        "numberOfTimedOutThings": counts["timed_out"],
    }


def job_arn(region: str, tenant_id: str, job_id: str) -> str:
    return arn(region, tenant_id, "job", job_id)


def targets(region: str, tenant_id: str, job: dict[str, Any]) -> list[str]:
    if job["target_device_id"]:
        return [arn(region, tenant_id, "thing", job["target_device_id"])]
    if job["target_group_id"]:
        return [arn(region, tenant_id, "thinggroup", job["target_group_id"])]
    return []  # iotcloud's target_all (the whole fleet) has no AWS form


def job_out(region: str, tenant_id: str, job: dict[str, Any]) -> dict[str, Any]:
    """DescribeJob's `job`."""
    timeout = job["in_progress_timeout_minutes"]
    return compact(
        jobArn=job_arn(region, tenant_id, job["job_id"]),
        jobId=job["job_id"],
        targetSelection=job["target_selection"],
        status=job["status"],
        forceCanceled=job["cancel_mode"] == "force" if job["status"] == "CANCELED" else None,
        reasonCode=job["cancel_reason_code"],
        comment=job["cancel_reason"],
        targets=targets(region, tenant_id, job),
        jobExecutionsRolloutConfig=camel(job["rollout_config"]),
        abortConfig=camel(job["abort_config"]),
        jobExecutionsRetryConfig=camel(job["retry_config"]),
        schedulingConfig=camel(job["scheduling_config"]),
        timeoutConfig={"inProgressTimeoutInMinutes": timeout} if timeout else None,
        createdAt=epoch(job["created_at"]),
        lastUpdatedAt=epoch(job["updated_at"]),
        completedAt=epoch(job["completed_at"]),
        jobProcessDetails=process_details(job["counts"]),
        jobTemplateArn=arn(region, tenant_id, "jobtemplate", job["template_id"])
        if job.get("template_id")
        else None,
        isConcurrent=False,
    )


def job_summary(region: str, tenant_id: str, job: dict[str, Any]) -> dict[str, Any]:
    return compact(
        jobArn=job_arn(region, tenant_id, job["job_id"]),
        jobId=job["job_id"],
        thingGroupId=job["target_group_id"],
        targetSelection=job["target_selection"],
        status=job["status"],
        createdAt=epoch(job["created_at"]),
        lastUpdatedAt=epoch(job["updated_at"]),
        completedAt=epoch(job["completed_at"]),
        isConcurrent=False,
    )


def execution_summary(row: dict[str, Any]) -> dict[str, Any]:
    return compact(
        status=row["status"],
        queuedAt=epoch(row["queued_at"]),
        startedAt=epoch(row["started_at"]),
        lastUpdatedAt=epoch(row["last_updated_at"]),
        executionNumber=row["retry_attempt"] + 1,  # the attempt, as the data plane and MQTT say
        retryAttempt=row["retry_attempt"],
    )


def details_map(details: Any) -> dict[str, str]:
    if not isinstance(details, dict):
        return {}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in details.items()}

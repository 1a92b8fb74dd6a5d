"""Fleet jobs, for operators: create (snapshot fan-out), list, inspect, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator

from shared import audit
from shared.audit import AuditHook
from shared.auth import Principal
from shared.jobs import service, templates
from shared.jobs.configs import AbortConfig, JobConfigs, RetryConfig, RolloutConfig, SchedulingConfig
from shared.jobs.states import COUNTER_COLUMNS, CancelMode, TargetSelection
from shared.web.api_models import ExecutionOut, ExecutionStatusName, JobStatusName
from shared.web.responses import (
    BAD_VALUE,
    BEARER,
    CONFLICT,
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    WRITER,
    WRITER_QUOTA,
    ErrorOut,
    error,
)
from shared.web.service_app import Now
from shared.web.validation import (
    SAFE_INT_MAX,
    STRICT_BODY,
    DocumentType,
    Identifier,
    JobId,
    Limit,
    Offset,
    TemplateParameters,
    Text,
    integer,
    json_object,
)
from ui_iot.deps import CurrentPrincipal, ReadDB, WriteDB, WriteTenant
from ui_iot.routes.rollout_models import AbortOut, RolloutOut, ScheduleOut

router = APIRouter(prefix="/customer", tags=["jobs"], responses=BEARER | UNAVAILABLE)


# The spec says what the jobs service refuses with a 400: not exactly one target. `not` leaves the type
# that generated clients see alone.
ONE_TARGET: dict[str, Any] = {
    "description": "exactly one target: target_device_id, target_group_id, or target_all: true",
    "not": {
        "anyOf": [
            {
                "required": ["target_device_id", "target_group_id"],
                "properties": {"target_device_id": {"type": "string"}, "target_group_id": {"type": "string"}},
            },
            {
                "required": ["target_device_id", "target_all"],
                "properties": {"target_device_id": {"type": "string"}, "target_all": {"const": True}},
            },
            {
                "required": ["target_group_id", "target_all"],
                "properties": {"target_group_id": {"type": "string"}, "target_all": {"const": True}},
            },
            {
                "properties": {
                    "target_device_id": {"type": "null"},
                    "target_group_id": {"type": "null"},
                    "target_all": {"const": False},
                }
            },
        ]
    },
}


# A job says its document_type, or takes it from its template: neither (absent or null) is refused, said
# with `not` as ONE_TARGET does.
NEITHER = {"properties": {"document_type": {"type": "null"}, "template_id": {"type": "null"}}}
JOB_CREATE_SCHEMA: dict[str, Any] = {
    "description": ONE_TARGET["description"] + "; document_type unless template_id gives it",
    "not": {"anyOf": [*ONE_TARGET["not"]["anyOf"], NEITHER]},
}


class JobCreate(BaseModel):
    model_config = ConfigDict(**STRICT_BODY, json_schema_extra=JOB_CREATE_SCHEMA)
    job_id: JobId | None = None
    document_type: DocumentType | None = Field(
        default=None, description="required unless template_id gives it"
    )
    document_params: json_object(32 * 1024) | None = None  # type: ignore[valid-type]
    # A job made from a template (routes/job_templates.py): its document filled with document_parameters.
    template_id: JobId | None = None
    document_parameters: TemplateParameters | None = None
    target_device_id: Identifier | None = None
    target_group_id: Identifier | None = None
    target_all: bool = False
    expires_in_hours: Annotated[float | None, Field(gt=0, le=24 * 366)] = None
    # How long a device has, from claiming its execution, to finish it (AWS: inProgressTimeoutInMinutes).
    in_progress_timeout_minutes: integer(ge=1, le=7 * 24 * 60) | None = None  # type: ignore[valid-type]
    # AWS targetSelection: CONTINUOUS (a group or the fleet) also targets devices that join it later and runs
    # until canceled.
    target_selection: Literal["SNAPSHOT", "CONTINUOUS"] = "SNAPSHOT"
    # Safe rollouts (AWS: jobExecutionsRolloutConfig, abortConfig, jobExecutionsRetryConfig, schedulingConfig)
    rollout_config: RolloutConfig | None = None
    abort_config: AbortConfig | None = None
    retry_config: RetryConfig | None = None
    scheduling_config: SchedulingConfig | None = None

    @model_validator(mode="after")
    def _document_type_or_template(self) -> JobCreate:
        if self.document_type is None and self.template_id is None:
            raise ValueError("document_type is required (unless template_id gives it)")
        return self


class JobCancel(BaseModel):
    model_config = STRICT_BODY
    reason: Text | None = None


# AWS CancelJob's reasonCode: upper-case letters, digits and underscores.
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,128}$")]


class JobCancelRequest(BaseModel):
    """AWS CancelJob: with force, IN_PROGRESS executions are canceled too."""

    model_config = STRICT_BODY
    force: bool = False
    reason_code: ReasonCode | None = None
    comment: Text | None = None


class ExecutionCancelRequest(BaseModel):
    """AWS CancelJobExecution: an IN_PROGRESS execution needs force; expected_version is its
    execution_number."""

    model_config = STRICT_BODY
    force: bool = False
    expected_version: integer(ge=1, le=SAFE_INT_MAX) | None = None  # type: ignore[valid-type]


# A job's executions by status: one field per counter column (shared.jobs.states.COUNTER_COLUMNS).
Counts = create_model("Counts", **{column: (int, ...) for column in COUNTER_COLUMNS.values()})  # type: ignore[call-overload]


class Target(BaseModel):
    type: Literal["device", "group", "all"]
    id: str | None


class JobOut(BaseModel):
    job_id: str
    document_type: str
    document_params: dict[str, Any]
    target_device_id: str | None
    target_group_id: str | None
    target_all: bool
    target: Target
    target_selection: Literal["SNAPSHOT", "CONTINUOUS"]
    artifacts: list[str] = Field(
        description="the artifacts its document references (${iotcloud:artifact-url:NAME})"
    )
    status: JobStatusName
    execution_count: int
    counts: Counts  # type: ignore[valid-type]
    progress: float
    expires_at: datetime | None
    in_progress_timeout_minutes: int | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    canceled_at: datetime | None
    cancel_reason: str | None = Field(description="the cancel's reason (DELETE) or comment (cancel)")
    cancel_reason_code: str | None
    cancel_mode: Literal["reject", "cancel", "force"] | None = Field(
        description="how a CANCELED job was canceled: reject (DELETE: QUEUED -> REJECTED), cancel (QUEUED -> "
        "CANCELED) or force (QUEUED and IN_PROGRESS -> CANCELED)"
    )
    rollout_config: dict[str, Any] | None
    abort_config: dict[str, Any] | None
    retry_config: dict[str, Any] | None
    scheduling_config: dict[str, Any] | None
    rollout: RolloutOut
    abort: AbortOut | None
    schedule: ScheduleOut | None
    template_id: str | None = Field(default=None, description="the job template it was made from")


class JobDetail(JobOut):
    executions: list[ExecutionOut]
    executions_truncated: bool
    executions_limit: int


class JobList(BaseModel):
    jobs: list[JobOut]
    total: int
    limit: int
    offset: int


class ExecutionPage(BaseModel):
    job_id: str
    executions: list[ExecutionOut]
    total: int
    limit: int
    offset: int
    next_after: str | None


class EventOut(BaseModel):
    event_id: int
    from_status: ExecutionStatusName
    to_status: ExecutionStatusName
    actor: Literal["device", "operator", "worker"]
    execution_number: int
    status_details: dict[str, Any] | None
    at: datetime


class EventList(BaseModel):
    job_id: str
    device_id: str
    events: list[EventOut]
    limit: int
    next_after: int | None = Field(description="event_id to pass as `after` for the next page; null: the end")


class DeviceExecutionOut(ExecutionOut):
    job_id: str
    document_type: str
    job_status: JobStatusName


class DeviceExecutionPage(BaseModel):
    device_id: str
    executions: list[DeviceExecutionOut]
    total: int
    limit: int
    offset: int


class CancelOut(BaseModel):
    job_id: str
    status: Literal["CANCELED"]
    rejected_executions: int
    sweep_complete: bool = Field(
        description="all QUEUED executions are REJECTED (else the jobs tick finishes)"
    )


class JobCanceledOut(BaseModel):
    job_id: str
    status: Literal["CANCELED"]
    force: bool
    canceled_executions: int = Field(description="executions this call moved to CANCELED")
    sweep_complete: bool = Field(
        description="every active execution to cancel is CANCELED (else the jobs tick finishes)"
    )


class ExecutionCanceledOut(ExecutionOut):
    job_id: str
    job_completed: bool = Field(description="this cancel completed the job")


class ExecutionCancelConflict(ErrorOut):
    """409 on a cancel of one execution that its state does not allow."""

    reason: str = Field(
        description="why: not_allowed (already terminal), not_forced, version_mismatch or raced"
    )
    current: ExecutionCanceledOut


EXECUTION_CANCEL_CONFLICT = error(
    409,
    "the execution is terminal, IN_PROGRESS without force, or not at expected_version; `current` is it",
    ExecutionCancelConflict,
)


def _creator(principal: Principal) -> str:
    return principal.email or principal.user_id


def _canceled(principal: Principal, job_id: str, details: dict[str, Any], now: datetime) -> AuditHook:
    """A job's cancel, recorded in the transaction that cancels it."""
    return lambda conn: audit.record(conn, principal, "job.canceled", "job", job_id, details, now=now)


@router.post(
    "/jobs",
    status_code=201,
    response_model=JobOut,
    responses=BAD_VALUE | WRITER_QUOTA | NOT_FOUND | CONFLICT | TOO_LARGE,
)
async def create_job(body: JobCreate, db: WriteDB, principal: CurrentPrincipal, now: Now) -> dict[str, Any]:
    # A template (if any) completes the request's fields first (shared/jobs/templates.py).
    given = body.model_dump(include=set(templates.JOB_FIELDS))
    fields = await templates.resolve(db, body.template_id, body.document_parameters, given)
    job = await service.create_job(
        db,
        job_id=body.job_id,
        **fields,
        target_device_id=body.target_device_id,
        target_group_id=body.target_group_id,
        target_all=body.target_all,
        target_selection=TargetSelection(body.target_selection),
        created_by=_creator(principal),
        now=now,
        configs=JobConfigs.with_defaults(
            {name: getattr(body, name) for name in JobConfigs.model_fields},
            await templates.stored_configs(db, body.template_id),
        ),
    )
    await _created(db, job, body.template_id, principal, now)
    return job


async def _created(
    db: asyncpg.Connection, job: dict[str, Any], template_id: str | None, principal: Principal, now: datetime
) -> None:
    """In the creating transaction: the template the job was made from, and the audit row."""
    if template_id is not None:
        await templates.record_template(db, job["job_id"], template_id)
        job["template_id"] = template_id
    details = {k: job[k] for k in ("document_type", "target", "template_id", "execution_count")}
    await audit.record(db, principal, "job.created", "job", job["job_id"], details, now=now)


@router.get("/jobs", response_model=JobList, responses=BAD_VALUE)
async def list_jobs(
    db: ReadDB,
    status: JobStatusName | None = None,
    document_type: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    jobs, total = await service.list_jobs(db, status, document_type, limit, offset)
    return {"jobs": jobs, "total": total, "limit": limit, "offset": offset}


@router.get("/jobs/{job_id}", response_model=JobDetail, responses=BAD_VALUE | NOT_FOUND)
async def get_job(job_id: str, db: ReadDB, now: Now) -> dict[str, Any]:
    return await service.get_job_with_executions(db, job_id, now=now)


@router.get("/jobs/{job_id}/executions", response_model=ExecutionPage, responses=BAD_VALUE | NOT_FOUND)
async def list_executions(
    job_id: str,
    db: ReadDB,
    status: ExecutionStatusName | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    after: Annotated[
        str | None, Query(max_length=128, description="keyset: device_id to start after")
    ] = None,
) -> dict[str, Any]:
    return await service.list_executions(db, job_id, status, limit, offset, after)


@router.get(
    "/jobs/{job_id}/executions/{device_id}/events", response_model=EventList, responses=BAD_VALUE | NOT_FOUND
)
async def execution_events(
    job_id: str,
    device_id: str,
    db: ReadDB,
    limit: Limit = 100,
    after: Annotated[int | None, Query(ge=0, description="keyset: event_id to start after")] = None,
) -> dict[str, Any]:
    return await service.execution_events(db, job_id, device_id, limit, after)


@router.delete(
    "/jobs/{job_id}",
    response_model=CancelOut,
    responses=BAD_VALUE | WRITER | NOT_FOUND | CONFLICT | TOO_LARGE,
)
async def cancel_job(
    job_id: str,
    tenant: WriteTenant,
    principal: CurrentPrincipal,
    now: Now,
    body: Annotated[JobCancel | None, Body()] = None,
) -> dict[str, Any]:
    reason = body.reason if body else None
    audited = _canceled(principal, job_id, {"mode": CancelMode.REJECT.value, "reason": reason}, now)
    out = await service.cancel_job(tenant.pool, tenant.tenant_id, job_id, reason, now, audit=audited)
    return {**out, "rejected_executions": out["moved"]}


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobCanceledOut,
    responses=BAD_VALUE | WRITER | NOT_FOUND | CONFLICT | TOO_LARGE,
)
async def cancel_job_aws(
    job_id: str,
    tenant: WriteTenant,
    principal: CurrentPrincipal,
    now: Now,
    body: Annotated[JobCancelRequest | None, Body()] = None,
) -> dict[str, Any]:
    """AWS CancelJob: the job becomes CANCELED and its QUEUED executions CANCELED (with force, its
    IN_PROGRESS ones too, whose devices' next update gets 409 with the current state). 409 unless the job is
    IN_PROGRESS."""
    body = body or JobCancelRequest()
    mode = CancelMode.FORCE if body.force else CancelMode.CANCEL
    details = {"mode": mode.value, **body.model_dump(include={"force", "reason_code", "comment"})}
    out = await service.cancel_job(
        tenant.pool, tenant.tenant_id, job_id, body.comment, now, mode=mode, reason_code=body.reason_code,
        audit=_canceled(principal, job_id, details, now),
    )  # fmt: skip
    return {**out, "force": body.force, "canceled_executions": out["moved"]}


@router.post(
    "/jobs/{job_id}/executions/{device_id}/cancel",
    response_model=ExecutionCanceledOut,
    responses=BAD_VALUE | WRITER | NOT_FOUND | EXECUTION_CANCEL_CONFLICT | TOO_LARGE,
)
async def cancel_execution(
    job_id: str,
    device_id: str,
    db: WriteDB,
    principal: CurrentPrincipal,
    now: Now,
    body: Annotated[ExecutionCancelRequest | None, Body()] = None,
) -> dict[str, Any]:
    """AWS CancelJobExecution: QUEUED -> CANCELED, IN_PROGRESS -> CANCELED only with force. 404 when the job
    has no execution for the device; 409 (with `reason` and `current`) when it is terminal, IN_PROGRESS
    without force, or not at expected_version. Canceling the job's last active execution completes it."""
    body = body or ExecutionCancelRequest()
    out = await service.cancel_execution(
        db, job_id, device_id, force=body.force, expected_version=body.expected_version, now=now
    )
    details = {"force": body.force, "status": out["status"], "execution_number": out["execution_number"]}
    await audit.record(
        db, principal, "execution.canceled", "execution", f"{job_id}/{device_id}", details, now=now
    )
    return out


@router.get("/devices/{device_id}/jobs", response_model=DeviceExecutionPage, responses=BAD_VALUE | NOT_FOUND)
async def device_jobs(
    device_id: str,
    db: ReadDB,
    status: ExecutionStatusName | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    return await service.device_executions(db, device_id, status, limit, offset)

"""Fleet jobs, for operators: create (snapshot fan-out), list, inspect, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Body, Query

from shared import audit
from shared.audit import AuditHook
from shared.auth import Principal
from shared.jobs import service, templates
from shared.jobs.configs import JobConfigs
from shared.jobs.states import CancelMode, TargetSelection
from shared.web.api_models import ExecutionStatusName, JobStatusName
from shared.web.responses import (
    BAD_VALUE,
    BEARER,
    CONFLICT,
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    WRITER,
    WRITER_QUOTA,
)
from shared.web.service_app import Now
from shared.web.validation import (
    Limit,
    Offset,
)
from ui_iot.deps import CurrentPrincipal, ReadDB, WriteDB, WriteTenant
from ui_iot.routes.job_models import (
    EXECUTION_CANCEL_CONFLICT,
    CancelOut,
    DeviceExecutionPage,
    EventList,
    ExecutionCanceledOut,
    ExecutionCancelRequest,
    ExecutionPage,
    JobCancel,
    JobCanceledOut,
    JobCancelRequest,
    JobCreate,
    JobDetail,
    JobList,
    JobOut,
)

router = APIRouter(prefix="/customer", tags=["jobs"], responses=BEARER | UNAVAILABLE)


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
        target_devices=body.target_devices.selection() if body.target_devices is not None else None,
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

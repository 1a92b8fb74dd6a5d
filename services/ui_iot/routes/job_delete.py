"""Deleting jobs and executions (AWS DeleteJob, DeleteJobExecution). `DELETE /customer/jobs/{id}` keeps the
seed's meaning (cancel), so deletion is an action of its own, beside `/cancel`: `POST .../delete`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from shared import audit
from shared.jobs import deletion
from shared.web.api_models import ExecutionOut
from shared.web.responses import BAD_VALUE, BEARER, NOT_FOUND, TOO_LARGE, UNAVAILABLE, WRITER, ErrorOut, error
from shared.web.service_app import Now
from shared.web.validation import SAFE_INT_MAX, STRICT_BODY, integer
from ui_iot.deps import CurrentPrincipal, WriteDB, WriteTenant

router = APIRouter(prefix="/customer", tags=["jobs"], responses=BEARER | UNAVAILABLE)


async def delete_batch(request: Request) -> int:
    """Executions per batch of a job's deletion (the app's `delete_batch`; tests make it small)."""
    return int(getattr(request.app.state, "delete_batch", deletion.DELETE_BATCH))


DeleteBatch = Annotated[int, Depends(delete_batch)]


class JobDeleteRequest(BaseModel):
    """AWS DeleteJob: a job IN_PROGRESS with QUEUED or IN_PROGRESS executions needs force."""

    model_config = STRICT_BODY
    force: bool = False


class ExecutionDeleteRequest(BaseModel):
    """AWS DeleteJobExecution: a QUEUED or IN_PROGRESS execution needs force; execution_number, if given,
    must be the execution's current one."""

    model_config = STRICT_BODY
    force: bool = False
    execution_number: integer(ge=1, le=SAFE_INT_MAX) | None = None  # type: ignore[valid-type]


class JobDeletedOut(BaseModel):
    job_id: str
    force: bool
    deleted_executions: int = Field(description="executions this call deleted")
    delete_complete: bool = Field(
        description="the job and all its executions are gone (else the jobs tick finishes; the job is hidden "
        "from every list and its devices get 404 meanwhile)"
    )


class JobDeleteConflict(ErrorOut):
    reason: str = Field(description="not_forced: the job is IN_PROGRESS with active executions")
    status: str
    counts: dict[str, int]


class ExecutionDeletedOut(ExecutionOut):
    job_id: str
    job_completed: bool = Field(description="deleting this (last active) execution completed the job")


class ExecutionDeleteConflict(ErrorOut):
    reason: str = Field(description="not_forced, version_mismatch or raced")
    current: ExecutionDeletedOut


JOB_DELETE_CONFLICT = error(
    409,
    "the job is IN_PROGRESS with QUEUED or IN_PROGRESS executions: delete it with force",
    JobDeleteConflict,
)
EXECUTION_DELETE_CONFLICT = error(
    409,
    "the execution is QUEUED or IN_PROGRESS without force, or not at execution_number; `current` is it",
    ExecutionDeleteConflict,
)


@router.post(
    "/jobs/{job_id}/delete",
    response_model=JobDeletedOut,
    responses=BAD_VALUE | WRITER | NOT_FOUND | JOB_DELETE_CONFLICT | TOO_LARGE,
)
async def delete_job(
    job_id: str,
    tenant: WriteTenant,
    principal: CurrentPrincipal,
    now: Now,
    batch: DeleteBatch,
    body: Annotated[JobDeleteRequest | None, Body()] = None,
) -> dict[str, Any]:
    """AWS DeleteJob: the job, its executions and their history are deleted (in batches; the job vanishes
    from every list at once). 409 (with `status` and `counts`) for a job IN_PROGRESS with active executions
    without force; with force their devices' next poll or update no longer finds them (404)."""
    force = (body or JobDeleteRequest()).force
    return await deletion.delete_job(
        tenant.pool,
        tenant.tenant_id,
        job_id,
        force=force,
        now=now,
        batch=batch,
        audit=lambda conn: audit.record(
            conn, principal, "job.deleted", "job", job_id, {"force": force}, now=now
        ),
    )


@router.post(
    "/jobs/{job_id}/executions/{device_id}/delete",
    response_model=ExecutionDeletedOut,
    responses=BAD_VALUE | WRITER | NOT_FOUND | EXECUTION_DELETE_CONFLICT | TOO_LARGE,
)
async def delete_execution(
    job_id: str,
    device_id: str,
    db: WriteDB,
    principal: CurrentPrincipal,
    now: Now,
    body: Annotated[ExecutionDeleteRequest | None, Body()] = None,
) -> dict[str, Any]:
    """AWS DeleteJobExecution: the execution and its history are deleted and its count taken off the job.
    409 (with `reason` and `current`) when it is QUEUED or IN_PROGRESS without force, or not at
    execution_number. Deleting the last active execution of a running job completes the job."""
    body = body or ExecutionDeleteRequest()
    out = await deletion.delete_execution(
        db, job_id, device_id, force=body.force, execution_number=body.execution_number, now=now
    )
    details = {"force": body.force, "status": out["status"], "execution_number": out["execution_number"]}
    await audit.record(
        db, principal, "execution.deleted", "execution", f"{job_id}/{device_id}", details, now=now
    )
    return out

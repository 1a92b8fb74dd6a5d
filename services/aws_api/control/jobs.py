"""AWS IoT Jobs' job operations (CreateJob, DescribeJob, ListJobs, CancelJob, DeleteJob, GetJobDocument)
over shared/jobs: the same state machine, counters and sweeps as iotcloud's own API."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, StringConstraints

from aws_api.control import job_shapes as shapes
from aws_api.control.arns import (
    JOB_ID,
    check_name,
    compact,
    flag,
    max_results,
    next_token,
    parse_arn,
    read_token,
)
from aws_api.control.context import (
    EXISTS,
    INVALID,
    NOT_FOUND,
    STATE,
    UNAUTHORIZED,
    CallerDep,
    aws_error,
    parse_body,
    translated,
    validated,
)
from shared import audit
from shared.auth import WRITE_ROLES
from shared.errors import Conflict
from shared.jobs import deletion, service, templates, update
from shared.jobs import queries as q
from shared.jobs.configs import AbortConfig, JobConfigs, RetryConfig
from shared.jobs.states import CancelMode, JobStatus, TargetSelection

router = APIRouter(tags=["aws iot jobs"])

JOB_PAGE, JOB_PAGE_MAX = 50, 250

JOB_ID_TAKEN = "SELECT 1 FROM jobs WHERE job_id = $1"  # a job being deleted too

# ListJobs: $1 status, $2 targetSelection, $3 the target group (each NULL: any); one more row than the page
# says whether a next page exists.
LIST_JOBS = (
    q.JOB_SELECT
    + """
 WHERE ($1::text IS NULL OR j.status = $1) AND ($2::text IS NULL OR j.target_selection = $2)
   AND ($3::text IS NULL OR j.target_group_id = $3) AND j.deleting_at IS NULL
 ORDER BY j.created_at DESC, j.job_id DESC
 LIMIT $4 OFFSET $5
"""
)


class CancelJobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reasonCode: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,128}$")] | None = None
    comment: Annotated[str, StringConstraints(max_length=2028)] | None = None


def _target(caller: Any, body: shapes.CreateJobIn) -> tuple[str | None, str | None]:
    if len(body.targets) != 1:
        raise aws_error(INVALID, "iotcloud jobs have exactly one target: one thing or one thing group ARN")
    kind, name = parse_arn(body.targets[0], caller.region, caller.tenant_id, ("thing", "thinggroup"))
    return (name, None) if kind == "thing" else (None, name)


@router.put("/jobs/{jobId}")
async def create_job(jobId: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    body = await parse_body(request, shapes.CreateJobIn)
    job_id = check_name(jobId, "jobId", JOB_ID)
    shapes.refuse_unsupported(body)
    if body.targetSelection not in ("SNAPSHOT", "CONTINUOUS"):
        raise aws_error(INVALID, "targetSelection must be SNAPSHOT or CONTINUOUS")
    device_id, group_id = _target(caller, body)
    template_id = None
    if body.jobTemplateArn is not None:
        template_id = parse_arn(body.jobTemplateArn, caller.region, caller.tenant_id, ("jobtemplate",))[1]
        if body.document is not None:
            raise aws_error(INVALID, "give either document or jobTemplateArn, not both")
    elif body.document is None:
        raise aws_error(INVALID, "document (or jobTemplateArn) is required")
    document = shapes.parse_document(body.document) if body.document is not None else None
    given = {
        "document_type": shapes.document_type(document) if document is not None else None,
        "document_params": document,
        "expires_in_hours": None,
        "in_progress_timeout_minutes": shapes.timeout_minutes(body.timeoutConfig),
    }
    own = shapes.configs(body)
    async with caller.tx(write=True) as conn:
        with translated():
            fields = await templates.resolve(conn, template_id, body.documentParameters, given)
            try:
                job = await service.create_job(
                    conn,
                    job_id=job_id,
                    **fields,
                    target_device_id=device_id,
                    target_group_id=group_id,
                    target_all=False,
                    target_selection=TargetSelection(body.targetSelection),
                    created_by=caller.actor,
                    now=caller.now,
                    configs=JobConfigs.with_defaults(own, await templates.stored_configs(conn, template_id)),
                )
            except (
                Conflict
            ) as exc:  # the job id is taken, or the target thing was deleted (its device revoked)
                if await conn.fetchval(JOB_ID_TAKEN, job_id) is not None:
                    raise aws_error(EXISTS, exc.message) from exc
                raise aws_error(NOT_FOUND, f"thing {device_id!r} not found ({exc.message})") from exc
            if template_id is not None:
                await templates.record_template(conn, job_id, template_id)
        details = {
            "document_type": job["document_type"],
            "target": job["target"],
            "template_id": template_id,
            "execution_count": job["execution_count"],
            "via": "aws",
        }
        await audit.record(conn, caller.actor, "job.created", "job", job_id, details, now=caller.now)
    return compact(
        jobArn=shapes.job_arn(caller.region, caller.tenant_id, job_id),
        jobId=job_id,
        description=body.description,
    )


@router.get("/jobs/{jobId}")
async def describe_job(jobId: str, caller: CallerDep) -> dict[str, Any]:
    async with caller.tx() as conn:
        with translated():
            job = await service.get_job(conn, jobId, caller.now)
    return {"job": shapes.job_out(caller.region, caller.tenant_id, job)}


@router.get("/jobs/{jobId}/job-document")
async def get_job_document(jobId: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """The job's document; with beforeSubstitution, its template's (placeholders unfilled) while the
    template exists."""
    before = flag(request.query_params.get("beforeSubstitution"), "beforeSubstitution")
    async with caller.tx() as conn:
        with translated():
            job = await service.get_job(conn, jobId, caller.now)
        document = job["document_params"]
        if before and job["template_id"] is not None:
            template = await conn.fetchrow(templates.GET_TEMPLATE, job["template_id"])
            document = template["document"] if template is not None else document
    return {"document": json.dumps(document)}


@router.get("/jobs")
async def list_jobs(request: Request, caller: CallerDep) -> dict[str, Any]:
    """ListJobs, newest first; filters status, targetSelection and the target thing group (by name or id:
    both are its group_id)."""
    params = request.query_params
    if params.get("namespaceId") is not None:
        raise aws_error(INVALID, "namespaceId is not supported by iotcloud")
    status = params.get("status")
    if status is not None and status not in JobStatus.__members__:
        raise aws_error(INVALID, f"status must be one of {', '.join(JobStatus)}")
    selection = params.get("targetSelection")
    if selection is not None and selection not in TargetSelection.__members__:
        raise aws_error(INVALID, "targetSelection must be SNAPSHOT or CONTINUOUS")
    group = params.get("thingGroupName") or params.get("thingGroupId")
    limit = max_results(params.get("maxResults"), JOB_PAGE, JOB_PAGE_MAX)
    offset = read_token(params.get("nextToken"), "offset", int) or 0
    async with caller.tx() as conn:
        rows = await conn.fetch(LIST_JOBS, status, selection, group, limit + 1, offset)
    jobs = [service.job_view(r) for r in rows[:limit]]
    return compact(
        jobs=[shapes.job_summary(caller.region, caller.tenant_id, j) for j in jobs],
        nextToken=next_token({"offset": offset + limit} if len(rows) > limit else None),
    )


@router.put("/jobs/{jobId}/cancel")
async def cancel_job(jobId: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """CancelJob: QUEUED executions become CANCELED; with force, IN_PROGRESS ones too. A job that is not
    IN_PROGRESS: InvalidRequestException."""
    body = await parse_body(request, CancelJobIn)
    force = flag(request.query_params.get("force"), "force")
    mode = CancelMode.FORCE if force else CancelMode.CANCEL
    if caller.principal.role not in WRITE_ROLES:
        raise aws_error(UNAUTHORIZED, f"role {caller.principal.role!r} may not change anything")

    async def audited(conn: Any) -> None:
        details = {"mode": mode.value, "reason_code": body.reasonCode, "comment": body.comment, "via": "aws"}
        await audit.record(conn, caller.actor, "job.canceled", "job", jobId, details, now=caller.now)

    with translated(conflict=INVALID):
        await service.cancel_job(
            caller.pool,
            caller.tenant_id,
            jobId,
            body.comment,
            caller.now,
            mode=mode,
            reason_code=body.reasonCode,
            audit=audited,
        )
    return {"jobArn": shapes.job_arn(caller.region, caller.tenant_id, jobId), "jobId": jobId}


@router.delete("/jobs/{jobId}")
async def delete_job(jobId: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """DeleteJob: an IN_PROGRESS job with active executions needs force (else InvalidStateTransition)."""
    params = request.query_params
    if params.get("namespaceId") is not None:
        raise aws_error(INVALID, "namespaceId is not supported by iotcloud")
    force = flag(params.get("force"), "force")
    if caller.principal.role not in WRITE_ROLES:
        raise aws_error(UNAUTHORIZED, f"role {caller.principal.role!r} may not change anything")

    async def audited(conn: Any) -> None:
        await audit.record(
            conn, caller.actor, "job.deleted", "job", jobId, {"force": force, "via": "aws"}, now=caller.now
        )

    with translated(not_forced=STATE, conflict=STATE):
        await deletion.delete_job(
            caller.pool, caller.tenant_id, jobId, force=force, now=caller.now, audit=audited
        )
    return {}


class UpdateJobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    presignedUrlConfig: dict[str, Any] | None = None
    jobExecutionsRolloutConfig: dict[str, Any] | None = None
    abortConfig: dict[str, Any] | None = None
    timeoutConfig: dict[str, Any] | None = None
    jobExecutionsRetryConfig: dict[str, Any] | None = None


@router.patch("/jobs/{jobId}")
async def update_job(jobId: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """UpdateJob: a running or scheduled job's abortConfig, jobExecutionsRetryConfig and timeoutConfig
    (shared/jobs/update.py). A rollout's rate, the description and presigned URLs cannot change here."""
    body = await parse_body(request, UpdateJobIn)
    if request.query_params.get("namespaceId") is not None:
        raise aws_error(INVALID, "namespaceId is not supported by iotcloud")
    for name in ("jobExecutionsRolloutConfig", "presignedUrlConfig", "description"):
        if getattr(body, name) is not None:
            raise aws_error(INVALID, f"iotcloud's UpdateJob cannot change {name} (see docs/aws-compat.md)")
    given: dict[str, Any] = {}
    if body.abortConfig is not None:
        given["abort_config"] = validated(AbortConfig, shapes.snake(body.abortConfig))
    if body.jobExecutionsRetryConfig is not None:
        given["retry_config"] = validated(RetryConfig, shapes.snake(body.jobExecutionsRetryConfig))
    if body.timeoutConfig is not None:
        given["in_progress_timeout_minutes"] = shapes.timeout_minutes(body.timeoutConfig)
    async with caller.tx(write=True) as conn:
        with translated(conflict=INVALID):
            await update.update_job(conn, jobId, **given, now=caller.now)
        details = {"changed": sorted(given), "via": "aws"}
        await audit.record(conn, caller.actor, "job.updated", "job", jobId, details, now=caller.now)
    return {}

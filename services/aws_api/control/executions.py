"""AWS IoT Jobs' execution operations for operators: ListJobExecutionsForJob, ListJobExecutionsForThing,
DescribeJobExecution, CancelJobExecution, DeleteJobExecution (each one request to the state machine)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from aws_api.control import job_shapes as shapes
from aws_api.control.arns import arn, compact, epoch, flag, max_results, next_token, read_token
from aws_api.control.context import NOT_FOUND, STATE, VERSION, CallerDep, aws_error, parse_body, translated
from shared import audit
from shared.jobs import deletion, service
from shared.jobs import queries as q
from shared.jobs.states import ExecutionStatus

router = APIRouter(tags=["aws iot job executions"])

PAGE, PAGE_MAX = 50, 250

# An execution's attempt (AWS's executionNumber: retry_attempt + 1, as the data plane and MQTT say) and its
# version (execution_number: AWS's versionNumber).
EXECUTION_NUMBER = """
SELECT e.retry_attempt + 1 AS attempt, e.execution_number
  FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE e.job_id = $1 AND e.device_id = $2 AND j.deleting_at IS NULL
"""


def _status(raw: str | None) -> str | None:
    if raw is not None and raw not in ExecutionStatus.__members__:
        raise aws_error("InvalidRequestException", f"status must be one of {', '.join(ExecutionStatus)}")
    return raw


@router.get("/jobs/{jobId}/things")
async def list_job_executions_for_job(jobId: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    params = request.query_params
    status = _status(params.get("status"))
    limit = max_results(params.get("maxResults"), PAGE, PAGE_MAX)
    after = read_token(params.get("nextToken"), "after", str)
    async with caller.tx() as conn:
        with translated():
            page = await service.list_executions(conn, jobId, status, limit, 0, after)
    rows = page["executions"]
    return compact(
        executionSummaries=[
            {
                "thingArn": arn(caller.region, caller.tenant_id, "thing", r["device_id"]),
                "jobExecutionSummary": shapes.execution_summary(r),
            }
            for r in rows
        ],
        nextToken=next_token({"after": rows[-1]["device_id"]} if len(rows) == limit else None),
    )


@router.get("/things/{thingName}/jobs")
async def list_job_executions_for_thing(
    thingName: str, request: Request, caller: CallerDep
) -> dict[str, Any]:
    params = request.query_params
    for unsupported in ("namespaceId", "jobId"):
        if params.get(unsupported) is not None:
            raise aws_error("InvalidRequestException", f"{unsupported} is not supported by iotcloud")
    status = _status(params.get("status"))
    limit = max_results(params.get("maxResults"), PAGE, PAGE_MAX)
    offset = read_token(params.get("nextToken"), "offset", int) or 0
    async with caller.tx() as conn:
        with translated():
            page = await service.device_executions(conn, thingName, status, limit, offset)
    rows = page["executions"]
    more = rows and offset + len(rows) < page["total"]
    return compact(
        executionSummaries=[
            {"jobId": r["job_id"], "jobExecutionSummary": shapes.execution_summary(r)} for r in rows
        ],
        nextToken=next_token({"offset": offset + len(rows)} if more else None),
    )


@router.get("/things/{thingName}/jobs/{jobId}")
async def describe_job_execution(
    jobId: str, thingName: str, request: Request, caller: CallerDep
) -> dict[str, Any]:
    raw = request.query_params.get("executionNumber")
    if raw is not None and not (raw.isdigit() and len(raw) <= 10):
        raise aws_error("InvalidRequestException", "executionNumber must be a number")
    async with caller.tx() as conn:
        row = await conn.fetchrow(q.DEVICE_EXECUTION, jobId, thingName)
    if row is None or (raw is not None and int(raw) != row["retry_attempt"] + 1):
        raise aws_error(NOT_FOUND, f"no execution of job {jobId!r} for thing {thingName!r}")
    timeout = row["timeout_at"]
    return {
        "execution": compact(
            jobId=jobId,
            status=row["status"],
            forceCanceled=bool((row["status_details"] or {}).get("force"))
            if row["status"] == "CANCELED"
            else None,
            statusDetails={"detailsMap": shapes.details_map(row["status_details"])},
            thingArn=arn(caller.region, caller.tenant_id, "thing", thingName),
            queuedAt=epoch(row["queued_at"]),
            startedAt=epoch(row["started_at"]),
            lastUpdatedAt=epoch(row["last_updated_at"]),
            executionNumber=row["retry_attempt"] + 1,
            versionNumber=row["execution_number"],
            approximateSecondsBeforeTimedOut=max(0, int((timeout - caller.now).total_seconds()))
            if timeout is not None and row["status"] == "IN_PROGRESS"
            else None,
        )
    }


async def _audit(
    conn: Any, caller: Any, action: str, job_id: str, thing: str, force: bool, out: dict[str, Any]
) -> None:
    """As iotcloud's own API records it (docs/audit.md), in the action's transaction."""
    details = {
        "force": force,
        "status": out["status"],
        "execution_number": out["execution_number"],
        "via": "aws",
    }
    await audit.record(conn, caller.actor, action, "execution", f"{job_id}/{thing}", details, now=caller.now)


class CancelExecutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expectedVersion: int | None = Field(default=None, ge=1, le=2**31 - 1)
    statusDetails: dict[str, str] | None = None


@router.put("/things/{thingName}/jobs/{jobId}/cancel")
async def cancel_job_execution(
    jobId: str, thingName: str, request: Request, caller: CallerDep
) -> dict[str, Any]:
    """CancelJobExecution: QUEUED -> CANCELED; IN_PROGRESS only with force. expectedVersion is the
    execution's versionNumber (iotcloud's execution_number)."""
    body = await parse_body(request, CancelExecutionIn)
    force = flag(request.query_params.get("force"), "force")
    async with caller.tx(write=True) as conn:
        with translated(version_mismatch=VERSION, conflict=STATE):
            out = await service.cancel_execution(
                conn, jobId, thingName, force=force, expected_version=body.expectedVersion, now=caller.now
            )
        await _audit(conn, caller, "execution.canceled", jobId, thingName, force, out)
    return {}


@router.delete("/things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}")
async def delete_job_execution(
    jobId: str, thingName: str, executionNumber: str, request: Request, caller: CallerDep
) -> dict[str, Any]:
    params = request.query_params
    if params.get("namespaceId") is not None:
        raise aws_error("InvalidRequestException", "namespaceId is not supported by iotcloud")
    if not (executionNumber.isdigit() and len(executionNumber) <= 10):
        raise aws_error("InvalidRequestException", "executionNumber must be a number")
    force = flag(params.get("force"), "force")
    async with caller.tx(write=True) as conn:
        # the execution at that attempt, deleted at the version read here (a move in between: refused)
        row = await conn.fetchrow(EXECUTION_NUMBER, jobId, thingName)
        if row is None or int(executionNumber) != row["attempt"]:
            raise aws_error(
                NOT_FOUND, f"no execution {executionNumber} of job {jobId!r} for thing {thingName!r}"
            )
        with translated(conflict=STATE):
            out = await deletion.delete_execution(
                conn, jobId, thingName, force=force, execution_number=row["execution_number"], now=caller.now
            )
        await _audit(conn, caller, "execution.deleted", jobId, thingName, force, out)
    return {}

"""A device's job executions: poll pending work, claim it, report progress and the outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, model_validator

from ingest_iot.deps import (
    TOKEN_HEADER,
    CurrentDevice,
    DeviceCredentials,
    device_call,
    device_credentials,
    group_commit,
    poll_group,
    url_signer,
)
from ingest_iot.long_poll import LongPolls
from ingest_iot.poll_answer import (
    Poll,
    etag_of,
    if_none_match_of,
    poll_parameters,
    respond,
    sleep_hint,
    wait_of,
)
from shared.artifacts import delivery
from shared.jobs import device as jobs
from shared.jobs.states import DEVICE_TARGETS, ExecutionStatus
from shared.web.api_models import ExecutionOut, ExecutionStatusName, JobStatusName
from shared.web.http import FastJSONResponse
from shared.web.lean_route import LeanRoute
from shared.web.responses import BAD_VALUE, DEVICE_TOKEN, NOT_FOUND, TOO_LARGE, UNAVAILABLE, ErrorOut, error
from shared.web.service_app import Now, now_of
from shared.web.validation import SAFE_INT_MAX, STRICT_BODY, integer, json_object

router = APIRouter(prefix="/device/v1/jobs", tags=["jobs"], responses=DEVICE_TOKEN | UNAVAILABLE)

DeviceTarget = Literal["IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"]
assert set(DeviceTarget.__args__) == {s.value for s in DEVICE_TARGETS}  # type: ignore[attr-defined]


class Document(BaseModel):
    type: str
    params: dict[str, Any]


class ArtifactLink(BaseModel):
    url: str = Field(description="signed download URL (HTTP Range supported), valid until expires_at")
    sha256: str
    size: int
    expires_at: datetime


ARTIFACTS_FIELD = Field(
    default=None,
    description="present when the document references artifacts: each ${iotcloud:artifact-url:NAME} in it is "
    "replaced by its signed URL, and here by name with its SHA-256 and size",
)


class PendingJob(BaseModel):
    job_id: str
    status: ExecutionStatusName
    execution_number: int
    document: Document
    status_details: dict[str, Any] | None
    queued_at: datetime
    started_at: datetime | None
    last_updated_at: datetime
    expires_at: datetime | None
    artifacts: dict[str, ArtifactLink] | None = ARTIFACTS_FIELD


class PollHint(BaseModel):
    sleep_seconds: int = Field(
        description="how long to wait before the next poll (as hawkBit DDI's config.polling.sleep): "
        "IOTCLOUD_POLL_SLEEP_SECONDS when nothing is pending, IOTCLOUD_POLL_SLEEP_PENDING_SECONDS when work "
        "is; a long-polling device may poll again at once"
    )


class PendingOut(BaseModel):
    jobs: list[PendingJob]
    poll: PollHint


class ExecutionUpdate(BaseModel):
    model_config = STRICT_BODY
    status: DeviceTarget
    status_details: json_object(16 * 1024) | None = None  # type: ignore[valid-type]
    expected_execution_number: integer(ge=1, le=SAFE_INT_MAX) | None = None  # type: ignore[valid-type]
    # AWS stepTimeoutInMinutes: the execution times out (TIMED_OUT) unless updated again within this many
    # minutes; only with status IN_PROGRESS (a claim or a progress update), each one that gives it resets it.
    step_timeout_minutes: integer(ge=1, le=7 * 24 * 60) | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _step_while_running(self) -> ExecutionUpdate:
        if self.step_timeout_minutes is not None and self.status != ExecutionStatus.IN_PROGRESS:
            raise ValueError("step_timeout_minutes goes with status IN_PROGRESS")
        return self


class StartNext(BaseModel):
    """AWS StartNextPendingJobExecution's body: both optional, as in an update that claims."""

    model_config = STRICT_BODY
    status_details: json_object(16 * 1024) | None = None  # type: ignore[valid-type]
    step_timeout_minutes: integer(ge=1, le=7 * 24 * 60) | None = None  # type: ignore[valid-type]


class StartedOut(BaseModel):
    execution: PendingJob | None = Field(
        description="the execution now IN_PROGRESS, its document included; null when nothing is pending"
    )
    more_pending: bool = Field(
        description="the device had other pending executions besides this one: start the next when it is done"
    )
    poll: PollHint


class ExecutionState(ExecutionOut):
    job_id: str


class ExecutionMoved(ExecutionState):
    job_completed: bool = Field(description="this update completed the job (true on exactly one update)")


class ExecutionConflict(ErrorOut):
    """409 on an illegal or stale execution update."""

    reason: str = Field(
        description="why: not_allowed, version_mismatch, job_expired, job_canceled, job_completed, "
        "job_scheduled, not_reached, past_deadline or raced"
    )
    current: ExecutionState


EXECUTION_CONFLICT = error(409, "illegal or stale update; `current` is the execution", ExecutionConflict)


class DeviceExecution(ExecutionState):
    document: Document
    expires_at: datetime | None
    job_status: JobStatusName
    artifacts: dict[str, ArtifactLink] | None = ARTIFACTS_FIELD


POLL_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"headers": {"ETag": {"description": "the jobs list's ETag", "schema": {"type": "string"}}}},
    304: {"description": "If-None-Match holds the jobs list's ETag: nothing changed (no body)"},
}

# The hot calls: LeanRoute serves them without FastAPI's per-request dependency solving (see
# shared/web/lean_route.py); `dependencies` documents the X-Provision-Token header they read themselves.
hot = APIRouter(
    prefix="/device/v1/jobs", tags=["jobs"], route_class=LeanRoute, responses=DEVICE_TOKEN | UNAVAILABLE
)


@hot.get(
    "/pending",
    response_model=PendingOut,
    dependencies=[Depends(device_credentials), Depends(poll_parameters)],
    responses=POLL_ANSWERS
    | error(
        503,
        "the database is unavailable, or (with `wait`) too many polls are waiting on this server: nothing "
        "was stored, retry later (after Retry-After seconds when given)",
        retry_after=True,
    ),
)
async def pending(request: Request) -> Response:
    wait = wait_of(request)
    tags = if_none_match_of(request)
    settings = request.app.state.settings
    async with device_call(request, request.headers.get(TOKEN_HEADER)) as device:
        if not wait:
            poll = await _look(request, device)
        else:
            poll = await _long_poll(request, device, wait, tags)
    return respond(poll, tags, settings)


async def _look(request: Request, device: DeviceCredentials) -> Poll:
    """The device's pending work, one statement (two when an execution's document references artifacts)."""
    work = await jobs.pending_for_device(poll_group(request), device.token_hash, device.now)
    etag = etag_of(work)
    work = await delivery.for_poll(
        device.pool, lambda: url_signer(request), device.token_hash, device.seen_interval, work, device.now
    )
    return Poll(work, etag)


async def _long_poll(
    request: Request, device: DeviceCredentials, wait: int, tags: frozenset[str] | None
) -> Poll:
    """?wait=N: who the device is (one cheap query), registered as waiting, then its work; when there is
    nothing to answer yet, wait for it (ingest_iot/long_poll.py)."""
    polls: LongPolls = request.app.state.long_polls
    identity = await jobs.identify(device.pool, device.token_hash, device.seen_interval, device.now)
    if identity is None:  # unknown or revoked: the look says so
        return await _look(request, device)
    with polls.waiting(*identity) as waiter:
        poll = await _look(request, device)
        if poll.answers(tags) or polls.waiters.closing:
            return poll
        if waiter is None:
            raise polls.refuse(sleep_hint(request.app.state.settings, False))

        async def look() -> bool:
            nonlocal poll
            device.now = now_of(request)
            poll = await _look(request, device)
            return poll.answers(tags)

        await polls.wait(waiter, wait, look)
    return poll


@hot.put(
    "/{job_id}/execution",
    response_model=ExecutionMoved,
    dependencies=[Depends(device_credentials)],
    responses=BAD_VALUE | NOT_FOUND | EXECUTION_CONFLICT | TOO_LARGE,
)
async def update_execution(request: Request, job_id: str, body: ExecutionUpdate) -> Response:
    async with device_call(request, request.headers.get(TOKEN_HEADER)) as device:
        state = await jobs.device_update(
            group_commit(request),
            device.token_hash,
            job_id,
            ExecutionStatus(body.status),
            body.status_details,
            body.expected_execution_number,
            device.now,
            body.step_timeout_minutes,
        )
    return FastJSONResponse({k: state[k] for k in ExecutionMoved.model_fields})


@hot.post(
    "/start-next",
    response_model=StartedOut,
    dependencies=[Depends(device_credentials)],
    responses=BAD_VALUE | EXECUTION_CONFLICT | TOO_LARGE,
)
async def start_next(request: Request, body: StartNext | None = None) -> Response:
    """Claims the device's next pending execution in one call (AWS StartNextPendingJobExecution): its first
    pending one (IN_PROGRESS before QUEUED, oldest first) moved to IN_PROGRESS, or returned as it is when
    already IN_PROGRESS and no status details or step timeout are given. A device can use it instead of a
    poll followed by the claim."""
    body = body or StartNext()
    async with device_call(request, request.headers.get(TOKEN_HEADER)) as device:
        started = await jobs.start_next(
            group_commit(request),
            device.token_hash,
            device.now,
            body.status_details,
            body.step_timeout_minutes,
        )
        work = [started.execution] if started.execution is not None else []
        work = await delivery.for_poll(
            device.pool,
            lambda: url_signer(request),
            device.token_hash,
            device.seen_interval,
            work,
            device.now,
        )
    hint = sleep_hint(request.app.state.settings, started.more_pending)
    answer = {"execution": work[0] if work else None, "more_pending": started.more_pending}
    return FastJSONResponse(answer | {"poll": {"sleep_seconds": hint}})


@router.get("/{job_id}/execution", response_model=DeviceExecution, responses=BAD_VALUE | NOT_FOUND)
async def get_execution(job_id: str, device: CurrentDevice, request: Request, now: Now) -> dict[str, Any]:
    execution = await jobs.get_device_execution(device.conn, job_id, device.device_id)
    return await delivery.for_execution(
        device.conn, url_signer(request), device.tenant_id, device.device_id, execution, now
    )

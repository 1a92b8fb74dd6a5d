"""The AWS IoT Jobs device API over MQTT, answered from our state machine: reads with one statement each
(iotcloud.mqtt_pending, the device's execution), every move through the gateway's GroupCommit
(iotcloud.device_moves -> iotcloud.move_executions, as the HTTP device API's updates), so a device may mix
MQTT and HTTP. Each handler returns (reply topic, payload) pairs; nothing here touches a socket."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from mqtt_gateway import payloads as aws
from mqtt_gateway.requests import BadJobsRequest, JobsRequest, client_token_of, parse
from mqtt_gateway.topics import JOB_ID, Request
from shared.infra.db import DB_UNAVAILABLE, tenant_tx
from shared.jobs import queries as q
from shared.jobs.group_commit import GroupCommit, MoveRequest
from shared.jobs.states import ExecutionStatus
from shared.observability import metrics

log = logging.getLogger("iotcloud.mqtt.jobs")

PENDING = "SELECT * FROM iotcloud.mqtt_pending($1::text[], $2, $3)"
PENDING_LIMIT = 100
START_NEXT_TRIES = 4
Reply = tuple[str, dict[str, Any]]


class Revoked(Exception):
    """The device's token was revoked or rotated while it was connected: the connection ends."""


@dataclass(slots=True)
class Device:
    thing: str
    tenant_id: str
    device_id: str
    token_hash: str


@dataclass(slots=True)
class JobsApi:
    pool: asyncpg.Pool
    mover: GroupCommit
    clock: Callable[[], datetime]

    async def handle(self, device: Device, request: Request, payload: bytes) -> Reply:
        token = None
        try:
            if request.kind == "invalid":
                token = client_token_of(payload)
                raise BadJobsRequest("InvalidTopic", "the topic maps to no AWS IoT Jobs API", token)
            body = parse(payload, request.kind)
            token = body.client_token
            if request.kind == "get":
                rows = await self.pending(device.token_hash)
                return _ok(request, aws.accepted(token, **aws.pending_lists(rows)))
            if request.kind == "start-next":
                return _ok(request, await self.start_next(device, body))
            if request.job_id != "$next" and not JOB_ID.fullmatch(request.job_id or ""):
                raise BadJobsRequest("ResourceNotFound", "no execution of that job for this thing", token)
            if request.kind == "describe":
                return _ok(request, await self.describe(device, request.job_id or "", body))
            return _ok(request, await self.update(device, request.job_id or "", body))
        except BadJobsRequest as exc:
            return _no(
                request, aws.rejected(exc.code, str(exc), exc.token if exc.token is not None else token)
            )
        except _Refused as exc:
            return _no(request, aws.rejected(exc.code, exc.message, token, exc.state))
        except DB_UNAVAILABLE:
            return _no(request, aws.rejected("InternalError", "the database is unavailable; retry", token))

    async def pending(self, token_hash: str, limit: int = PENDING_LIMIT) -> list[asyncpg.Record]:
        return await self.pool.fetch(PENDING, [token_hash], self.clock(), limit)

    async def read(self, device: Device, job_id: str) -> asyncpg.Record | None:
        async with tenant_tx(self.pool, device.tenant_id) as conn:
            return await conn.fetchrow(q.DEVICE_EXECUTION, job_id, device.device_id)

    async def describe(self, device: Device, job_id: str, body: JobsRequest) -> dict[str, Any]:
        include = body.include_document is not False  # AWS: unless set to false
        if job_id == "$next":
            rows = await self.pending(device.token_hash, 1)
            if not rows:
                return aws.accepted(body.client_token)
            row: Any = rows[0]
        else:
            row = await self.read(device, job_id)
            if row is None or _other_number(row, body):
                raise BadJobsRequest("ResourceNotFound", f"no execution of job {job_id} for this thing")
        doc = row["document_params"]
        return aws.accepted(body.client_token, execution=aws.execution(row, device.thing, doc, include))

    async def start_next(self, device: Device, body: JobsRequest) -> dict[str, Any]:
        """The next pending execution, found and moved to IN_PROGRESS (with the given statusDetails and step
        timeout) in one group-commit statement, as the HTTP API's start-next (iotcloud.device_moves: a move
        without a job). One already IN_PROGRESS comes back as it is unless statusDetails or a step timeout
        are given; none pending: accepted without `execution`. When it changed between the read and the move
        (another client of the same thing starting it first), it is asked again."""
        for _ in range(START_NEXT_TRIES):
            row = await self._move(device, None, ExecutionStatus.IN_PROGRESS, body, None)
            outcome = row["outcome"]
            if outcome == "none":
                return aws.accepted(body.client_token)
            if outcome in ("moved", "unchanged"):
                execution = aws.execution(row, device.thing, row["document_params"])
                return aws.accepted(body.client_token, execution=execution)
            if outcome not in ("version_mismatch", "not_found"):
                code = aws.REFUSAL_CODES.get(outcome, "InvalidStateTransition")
                raise _Refused(code, _refusal_message(outcome, row, body), row)
        raise _Refused("RequestThrottled", "the next execution kept changing; retry", None)

    async def update(self, device: Device, job_id: str, body: JobsRequest) -> dict[str, Any]:
        assert body.status is not None
        if body.execution_number is not None:
            current = await self.read(device, job_id)
            if current is None or _other_number(current, body):
                raise BadJobsRequest(
                    "ResourceNotFound", f"no execution {body.execution_number} of job {job_id}"
                )
        row = await self._move(device, job_id, body.status, body, body.expected_version)
        outcome = row["outcome"]
        if outcome not in ("moved", "unchanged"):
            code = aws.REFUSAL_CODES.get(outcome, "InvalidStateTransition")
            state = None if outcome == "not_found" else row
            raise _Refused(code, _refusal_message(outcome, row, body), state)
        document = None
        if body.include_document:
            fresh = await self.read(device, job_id)
            document = fresh["document_params"] if fresh is not None else None
        return aws.accepted(
            body.client_token,
            executionState=aws.execution_state(row) if body.include_state else None,
            jobDocument=document,
        )

    async def _move(
        self,
        device: Device,
        job_id: str | None,
        target: ExecutionStatus,
        body: JobsRequest,
        expected: int | None,
    ) -> asyncpg.Record:
        """One move through group commit (job_id None: a start-next); a 'raced' refusal (the state changed
        while it was decided, and the fresh state allows it) is asked again."""
        for _ in range(3):
            request = MoveRequest(
                device.token_hash, job_id, target.value, body.status_details, expected, self.clock()
            )
            request.step_timeout_minutes = body.step_timeout
            row = await self.mover.move(request)
            metrics.count_transition("device", row)
            if row["outcome"] == "unauthorized":
                raise Revoked(device.thing)
            if row["outcome"] != "raced":
                return row
        return row


class _Refused(Exception):
    def __init__(self, code: str, message: str, state: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.state = code, message, state


def _other_number(row: Any, body: JobsRequest) -> bool:
    return body.execution_number is not None and body.execution_number != row["retry_attempt"] + 1


def _refusal_message(outcome: str, row: Any, body: JobsRequest) -> str:
    from shared.jobs.device import REFUSALS

    words = {"expected": body.expected_version, "target": body.status or "IN_PROGRESS", **dict(row)}
    return REFUSALS.get(outcome, "cannot move execution from {status} to {target}").format(**words)


def _ok(request: Request, body: dict[str, Any]) -> Reply:
    return request.reply_base + "/accepted", body


def _no(request: Request, body: dict[str, Any]) -> Reply:
    return request.reply_base + "/rejected", body

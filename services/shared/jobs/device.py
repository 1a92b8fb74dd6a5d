"""Jobs domain operations for devices: poll, read and move their own executions. The poll and the move are
one SQL statement each (db/functions/030_device_calls.sql), authentication included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import NotFound, Unauthorized, Unavailable
from shared.jobs import queries as q
from shared.jobs.group_commit import GroupCommit, MoveRequest
from shared.jobs.outcome import answer
from shared.jobs.poll_group import PollGroup
from shared.jobs.states import Actor, ExecutionStatus
from shared.observability import metrics


class UnknownDevice(Unauthorized):
    """The provision token is unknown or revoked."""


# Why iotcloud.move_executions refused a device's move, in words (the reason code goes along as `reason`).
REFUSALS: dict[str, str] = {
    "version_mismatch": "stale expected_execution_number {expected}; current is {execution_number}",
    "not_allowed": "cannot move execution from {status} to {target}",
    "job_expired": "the job has expired; this execution can no longer start",
    "job_canceled": "the job is canceled; this execution can no longer start",
    "job_completed": "the job is completed; this execution can no longer start",
    "past_deadline": (
        "the execution's deadline (its in-progress timeout, or the step timeout) has passed; "
        "it is being timed out"
    ),
    "not_reached": "the job's rollout has not reached this device yet",
    "job_scheduled": "the job is scheduled and has not started; this execution cannot start yet",
    "raced": "the execution changed while this update was decided; read it and retry",
}


def _device_execution_view(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    data = dict(row)
    data["document"] = {"type": data.pop("document_type"), "params": data.pop("document_params")}
    return data


async def pending_for_device(polls: PollGroup, token_hash: str, now: datetime) -> list[dict[str, Any]]:
    """The pending executions of the device whose token hashes to `token_hash`, read with the polls of the
    other devices polling at that moment (one statement, authentication included). An unknown or revoked
    token raises UnknownDevice."""
    rows = await polls.poll(token_hash, now)
    if rows is None:
        metrics.count_device_outcomes("poll", ("unauthorized",))
        raise UnknownDevice("unknown or revoked provision token")
    metrics.count_device_outcomes("poll", ("jobs" if rows else "empty",))
    views = [_device_execution_view(r) for r in rows]
    for view in views:
        del view["ord"]  # the request's place in its batch: not the device's business, and not in its ETag
    return views


async def identify(
    pool: asyncpg.Pool, token_hash: str, seen_interval: int, now: datetime
) -> tuple[str, str] | None:
    """(tenant, device) of an ACTIVE device's token, else None (one cheap statement; a long-poll that waits
    needs it, the poll does not)."""
    row = await pool.fetchrow(q.DEVICE_IDENTITY, token_hash, seen_interval, now)
    if row is None or row["status"] != "ACTIVE":
        return None
    return row["tenant_id"], row["device_id"]


async def get_device_execution(conn: asyncpg.Connection, job_id: str, device_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(q.DEVICE_EXECUTION, job_id, device_id)
    if row is None:
        raise NotFound(f"no execution of job {job_id!r} for this device")
    return _device_execution_view(row)


async def device_update(
    mover: GroupCommit,
    token_hash: str,
    job_id: str,
    target: ExecutionStatus,
    status_details: dict[str, Any] | None,
    expected_number: int | None,
    now: datetime,
    step_timeout_minutes: int | None = None,
) -> dict[str, Any]:
    """A device moves its own execution, through group commit (one statement for all devices updating at
    that moment). The answer is the execution's state, with `job_completed` true when this move completed
    the job. A refused move raises Conflict with the reason and the current state; repeating the terminal
    update already made returns the current state; an unknown or revoked token raises UnknownDevice."""
    row = await mover.move(
        MoveRequest(
            token_hash, job_id, target.value, status_details, expected_number, now, step_timeout_minutes
        )
    )
    if row["outcome"] == "unauthorized":
        raise UnknownDevice("unknown or revoked provision token")
    refusals = REFUSALS
    if row["outcome"] == "not_allowed" and row["status"] == ExecutionStatus.CANCELED:
        refusals = {**REFUSALS, "not_allowed": "an operator canceled this execution; it can no longer change"}
    elif row["outcome"] == "not_allowed" and row["status"] == ExecutionStatus.REMOVED:
        refusals = {**REFUSALS, "not_allowed": "this device left the job's target; the execution was removed"}
    return answer(
        row,
        Actor.DEVICE,
        refusals,
        not_found=f"no execution of job {job_id!r} for this device",
        otherwise="cannot move execution from {status} to {target}",
        expected=expected_number,
        target=target.value,
    )


START_NEXT_TRIES = 4


@dataclass(slots=True)
class Started:
    """start_next's answer: the execution now IN_PROGRESS (None: nothing was pending), and whether the
    device had other pending work besides it."""

    execution: dict[str, Any] | None
    more_pending: bool


async def start_next(
    mover: GroupCommit,
    token_hash: str,
    now: datetime,
    status_details: dict[str, Any] | None = None,
    step_timeout_minutes: int | None = None,
) -> Started:
    """AWS StartNextPendingJobExecution: the device's next pending execution (the first of its poll: one
    IN_PROGRESS before the QUEUED ones, oldest first) moved to IN_PROGRESS by the same move as an update, in
    the same statement that finds it (group commit: one statement and one commit with the other devices'
    moves of that moment). One already IN_PROGRESS comes back as it is, unless status details or a step
    timeout are given: then it is updated with them, as AWS does. When the execution changed between the
    read and the move (another client of the device, an operator), it is asked again; a refusal for another
    reason (its deadline passed, say) is a Conflict, as for an update."""
    request = MoveRequest(
        token_hash, None, ExecutionStatus.IN_PROGRESS.value, status_details, None, now, step_timeout_minutes
    )
    for _ in range(START_NEXT_TRIES):
        row = await mover.move(request)
        outcome = row["outcome"]
        if outcome == "unauthorized":
            raise UnknownDevice("unknown or revoked provision token")
        if outcome == "none":
            return Started(None, False)
        if outcome in ("version_mismatch", "raced", "not_found"):  # it changed meanwhile
            continue
        state = answer(
            row,
            Actor.DEVICE,
            REFUSALS,
            not_found="",
            otherwise="cannot move execution from {status} to {target}",
            expected=row["execution_number"],
            target=ExecutionStatus.IN_PROGRESS.value,
        )
        execution = {k: state[k] for k in START_FIELDS} | {
            "document": {"type": row["document_type"], "params": row["document_params"]},
            "expires_at": row["expires_at"],
        }
        return Started(execution, bool(row["more_pending"]))
    raise Unavailable("the next pending execution kept changing; retry", retry_after=1)


# a started execution, as the poll lists it (with document and expires_at)
START_FIELDS = ("job_id", "status", "status_details", "execution_number", "queued_at", "started_at",
                "last_updated_at")  # fmt: skip

"""Jobs domain operations for operators and devices. Each runs inside the caller's tenant transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.errors import BadRequest, Conflict, NotFound
from shared.infra.db import device_tx
from shared.jobs import queries as q
from shared.jobs.states import Actor, ExecutionStatus, JobStatus, allowed_from, is_terminal

COUNTERS = ("queued", "in_progress", "succeeded", "failed", "timed_out", "rejected")
EMBEDDED_EXECUTIONS = 1000


def job_view(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    data = dict(row)
    counts = {name: int(data.pop(name)) for name in COUNTERS}
    data["counts"] = counts
    data["target"] = (
        {"type": "device", "id": data["target_device_id"]}
        if data["target_device_id"]
        else {"type": "group", "id": data["target_group_id"]}
        if data["target_group_id"]
        else {"type": "all", "id": None}
    )
    done = sum(counts[s] for s in ("succeeded", "failed", "timed_out", "rejected"))
    data["progress"] = round(done / data["execution_count"], 4) if data["execution_count"] else 1.0
    return data


async def create_job(
    conn: asyncpg.Connection,
    *,
    job_id: str | None,
    document_type: str,
    document_params: dict[str, Any],
    target_device_id: str | None,
    target_group_id: str | None,
    target_all: bool,
    expires_in_hours: float | None,
    created_by: str | None,
    now: datetime,
    in_progress_timeout_minutes: int | None = None,
) -> dict[str, Any]:
    """Creates the job and, in the same transaction, one QUEUED execution per targeted device."""
    targets = (target_device_id is not None) + (target_group_id is not None) + bool(target_all)
    if targets != 1:
        raise BadRequest("give exactly one of target_device_id, target_group_id or target_all: true")
    if target_device_id is not None:
        status = await conn.fetchval(q.DEVICE_STATUS, target_device_id)
        if status is None:
            raise NotFound(f"device {target_device_id!r} not found")
        if status != "ACTIVE":
            raise Conflict(f"device {target_device_id!r} is {status}; it cannot run jobs")
    if target_group_id is not None and await conn.fetchval(q.GROUP_EXISTS, target_group_id) is None:
        raise NotFound(f"group {target_group_id!r} not found")

    job_id = job_id or str(uuid.uuid4())
    expires_at = now + timedelta(hours=expires_in_hours) if expires_in_hours is not None else None
    inserted = await conn.fetchval(
        q.INSERT_JOB,
        job_id,
        document_type,
        document_params,
        target_device_id,
        target_group_id,
        bool(target_all),
        expires_at,
        created_by,
        now,
        in_progress_timeout_minutes,
    )
    if inserted is None:
        raise Conflict(f"job {job_id!r} already exists")

    if target_device_id is not None:
        tag = await conn.execute(q.FAN_OUT_DEVICE, job_id, now, target_device_id)
    elif target_group_id is not None:
        tag = await conn.execute(q.FAN_OUT_GROUP, job_id, now, target_group_id)
    else:
        tag = await conn.execute(q.FAN_OUT_ALL, job_id, now)
    count = int(tag.rsplit(" ", 1)[-1])
    if count == 0:
        what = (
            f"group {target_group_id!r} has no active members"
            if target_group_id
            else "the fleet has no active devices"
        )
        raise BadRequest(f"{what}: a job needs at least one device")
    await conn.execute(q.INIT_COUNTERS, job_id, count)
    await conn.execute(q.SET_EXECUTION_COUNT, job_id, count)
    row = await conn.fetchrow(q.GET_JOB, job_id)
    assert row is not None
    return job_view(row)


async def get_job(conn: asyncpg.Connection, job_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(q.GET_JOB, job_id)
    if row is None:
        raise NotFound(f"job {job_id!r} not found")
    return job_view(row)


async def get_job_with_executions(
    conn: asyncpg.Connection, job_id: str, limit: int = EMBEDDED_EXECUTIONS
) -> dict[str, Any]:
    job = await get_job(conn, job_id)
    rows = await conn.fetch(q.LIST_EXECUTIONS, job_id, None, limit, 0, None)
    job["executions"] = [dict(r) for r in rows]
    job["executions_truncated"] = job["execution_count"] > len(rows)
    job["executions_limit"] = limit
    return job


async def list_jobs(
    conn: asyncpg.Connection, status: str | None, document_type: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(q.LIST_JOBS, status, document_type, limit, offset)
    total = await conn.fetchval(q.COUNT_JOBS, status, document_type)
    return [job_view(r) for r in rows], int(total)


async def list_executions(
    conn: asyncpg.Connection, job_id: str, status: str | None, limit: int, offset: int, after: str | None
) -> dict[str, Any]:
    job = await get_job(conn, job_id)
    rows = await conn.fetch(q.LIST_EXECUTIONS, job_id, status, limit, offset, after)
    total = job["counts"][status.lower()] if status else job["execution_count"]
    items = [dict(r) for r in rows]
    return {
        "job_id": job_id,
        "executions": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_after": items[-1]["device_id"] if len(items) == limit else None,
    }


async def execution_events(
    conn: asyncpg.Connection, job_id: str, device_id: str, limit: int = 1000
) -> dict[str, Any]:
    if await conn.fetchval(q.EXECUTION_EXISTS, job_id, device_id) is None:
        raise NotFound(f"no execution of job {job_id!r} for device {device_id!r}")
    rows = await conn.fetch(q.EXECUTION_EVENTS, job_id, device_id, limit)
    return {"job_id": job_id, "device_id": device_id, "events": [dict(r) for r in rows]}


async def device_executions(
    conn: asyncpg.Connection, device_id: str, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    if await conn.fetchval(q.DEVICE_EXISTS, device_id) is None:
        raise NotFound(f"device {device_id!r} not found")
    rows = await conn.fetch(q.DEVICE_EXECUTIONS, device_id, status, limit, offset)
    total = int(rows[0]["total"]) if rows else 0
    items = [{k: v for k, v in dict(r).items() if k != "total"} for r in rows]
    return {"device_id": device_id, "executions": items, "total": total, "limit": limit, "offset": offset}


async def move_counts(
    conn: asyncpg.Connection, job_id: str, src: str, dst: str, shards: list[int], counts: list[int]
) -> None:
    if not shards:
        return
    await conn.execute(q.LOCK_COUNTERS, job_id, shards)
    await conn.execute(q.MOVE_COUNTS, job_id, src, dst, shards, counts)


async def complete_if_done(conn: asyncpg.Connection, job_id: str, now: datetime) -> bool:
    """Completes the job if no execution is active. Lock first, then check in a fresh snapshot."""
    await conn.execute(q.LOCK_JOB, job_id)
    return await conn.fetchval(q.COMPLETE_IF_DONE, job_id, now) is not None


async def cancel_job(
    conn: asyncpg.Connection, job_id: str, reason: str | None, now: datetime
) -> dict[str, Any]:
    """QUEUED executions become REJECTED (reason in status_details); IN_PROGRESS ones may still finish."""
    status = await conn.fetchval(q.JOB_STATUS, job_id)
    if status is None:
        raise NotFound(f"job {job_id!r} not found")
    if status != JobStatus.IN_PROGRESS:
        raise Conflict(f"job {job_id!r} is {status}; only an IN_PROGRESS job can be canceled", status=status)
    details = {"reason": "job_canceled", "message": reason} if reason else {"reason": "job_canceled"}
    row = await conn.fetchrow(q.REJECT_QUEUED, job_id, details, now)
    assert row is not None
    rejected = sum(row["counts"])
    await move_counts(conn, job_id, "QUEUED", "REJECTED", list(row["shards"]), list(row["counts"]))
    done = await conn.fetchrow(q.CANCEL_JOB, job_id, now, reason)
    if done is None:
        current = await conn.fetchval(q.JOB_STATUS, job_id)
        raise Conflict(
            f"job {job_id!r} is {current}; only an IN_PROGRESS job can be canceled", status=current
        )
    return {"job_id": job_id, "status": JobStatus.CANCELED.value, "rejected_executions": rejected}


# --- device side ---------------------------------------------------------------------------------------


def _device_execution_view(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    data = dict(row)
    data["document"] = {"type": data.pop("document_type"), "params": data.pop("document_params")}
    return data


async def pending_for_device(
    pool: asyncpg.Pool, token_hash: str, seen_interval: int, now: datetime, limit: int = 100
) -> list[dict[str, Any]]:
    """The pending executions of the device whose token hashes to `token_hash` (one round trip)."""
    rows = await pool.fetch(q.DEVICE_PENDING, token_hash, seen_interval, now, limit)
    return [_device_execution_view(r) for r in rows]


async def get_device_execution(conn: asyncpg.Connection, job_id: str, device_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(q.DEVICE_EXECUTION, job_id, device_id)
    if row is None:
        raise NotFound(f"no execution of job {job_id!r} for this device")
    return _device_execution_view(row)


async def device_update(
    pool: asyncpg.Pool,
    token_hash: str,
    seen_interval: int,
    job_id: str,
    target: ExecutionStatus,
    status_details: dict[str, Any] | None,
    expected_number: int | None,
    now: datetime,
) -> dict[str, Any]:
    """A device moves its own execution, in one round trip when the move is allowed. Illegal or stale
    moves raise Conflict with the current state; repeating the same terminal update returns the current
    state and changes nothing."""
    allowed = allowed_from(Actor.DEVICE, target)
    row = await pool.fetchrow(
        q.DEVICE_TRANSITION,
        token_hash,
        seen_interval,
        job_id,
        target.value,
        status_details,
        allowed,
        now,
        expected_number,
        is_terminal(target),
    )
    if row is not None:
        return dict(row)
    async with device_tx(pool, token_hash, seen_interval) as device:
        current = await get_device_execution(device.conn, job_id, device.device_id)  # 404 if there is none
    return _refused_update(current, target, status_details, expected_number, now)


def _refused_update(
    current: dict[str, Any],
    target: ExecutionStatus,
    status_details: dict[str, Any] | None,
    expected_number: int | None,
    now: datetime,
) -> dict[str, Any]:
    """Why a device's move was not made: a repeat of the same terminal update (answered with the current
    state), or a Conflict that says what is wrong and carries the current state."""
    state = {k: v for k, v in current.items() if k != "document"}
    if (
        current["status"] == target.value
        and is_terminal(target)
        and (status_details is None or status_details == current["status_details"])
    ):
        return state
    if expected_number is not None and expected_number != current["execution_number"]:
        raise Conflict(
            f"stale expected_execution_number {expected_number}; current is {current['execution_number']}",
            current=state,
        )
    if (
        current["status"] == ExecutionStatus.QUEUED
        and target == ExecutionStatus.IN_PROGRESS
        and current["expires_at"] is not None
        and current["expires_at"] <= now
    ):
        raise Conflict("the job has expired; this execution can no longer start", current=state)
    if (
        current["status"] == ExecutionStatus.IN_PROGRESS
        and current["timeout_at"] is not None
        and current["timeout_at"] <= now
    ):
        raise Conflict("the execution's in-progress timeout has passed; it is being timed out", current=state)
    raise Conflict(f"cannot move execution from {current['status']} to {target.value}", current=state)

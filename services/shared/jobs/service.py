"""Jobs domain operations for operators. Each runs inside the caller's tenant transaction, except the cancel,
whose sweep runs in batches of their own (shared/jobs/sweep.py)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared import quotas
from shared.artifacts.service import lock_for_job, referenced_names
from shared.audit import AuditHook
from shared.errors import BadRequest, Conflict, NotFound
from shared.groups import GROUP_EXISTS
from shared.infra.db import DB_ERRORS, tenant_tx
from shared.jobs import continuous, notify
from shared.jobs import queries as q
from shared.jobs.configs import JobConfigs
from shared.jobs.outcome import answer
from shared.jobs.rollout_view import rollout_view
from shared.jobs.states import COUNTER_COLUMNS, TERMINAL, Actor, CancelMode, JobStatus, TargetSelection
from shared.jobs.sweep import SWEEP_BATCH, SweepResult, sweep_job
from shared.selection import Selection, refuse_unknown

log = logging.getLogger("iotcloud.jobs")

EMBEDDED_EXECUTIONS = 1000
EVENTS_PAGE = 100
# The execution state an operator's cancel of one execution answers with (and a refusal carries as `current`).


def job_view(row: asyncpg.Record | dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    data = dict(row)
    counts = {name: int(data.pop(name)) for name in COUNTER_COLUMNS.values()}
    data["counts"] = counts
    data["target"] = (
        {"type": "device", "id": data["target_device_id"]}
        if data["target_device_id"]
        else {"type": "group", "id": data["target_group_id"]}
        if data["target_group_id"]
        else {"type": "devices", "id": None}
        if data.get("target_devices") is not None
        else {"type": "all", "id": None}
    )
    done = sum(counts[COUNTER_COLUMNS[s]] for s in TERMINAL)
    data["progress"] = round(done / data["execution_count"], 4) if data["execution_count"] else 1.0
    return rollout_view(data, now)


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
    target_selection: TargetSelection = TargetSelection.SNAPSHOT,
    configs: JobConfigs | None = None,
    target_devices: Selection | None = None,
) -> dict[str, Any]:
    """Creates the job and, in the same transaction, one QUEUED execution per targeted device. A CONTINUOUS
    job (a group or the fleet) may start with no device: devices that join its target later get theirs
    (shared/jobs/continuous.py); its target's lock, taken first, orders this fan-out with their joining.
    With a rollout or a schedule the executions wait for the worker's rollout tick to reach them (a job whose
    start has not come is SCHEDULED)."""
    configs = configs or JobConfigs()
    schedule = configs.scheduling_config
    if schedule and schedule.end_time and schedule.end_time <= now:
        raise BadRequest("scheduling_config.end_time must be in the future")
    targets = (target_device_id is not None) + (target_group_id is not None) + bool(target_all)
    targets += target_devices is not None
    if targets != 1:
        raise BadRequest(
            "give exactly one of target_device_id, target_group_id, target_all: true or target_devices"
        )
    is_continuous = target_selection is TargetSelection.CONTINUOUS
    if is_continuous:
        if target_device_id is not None or target_devices is not None:
            raise BadRequest(
                "a CONTINUOUS job targets a group or the fleet (target_all), not one device nor a list"
            )
        await continuous.lock_target(conn, target_group_id, exclusive=True)
    if target_device_id is not None:
        # FOR SHARE: a revocation waits for this job's fan-out, so the device checked is the device targeted.
        status = await conn.fetchval(q.DEVICE_STATUS, target_device_id)
        if status is None:
            raise NotFound(f"device {target_device_id!r} not found")
        if status != "ACTIVE":
            raise Conflict(f"device {target_device_id!r} is {status}; it cannot run jobs")
    if target_group_id is not None and await conn.fetchval(GROUP_EXISTS, target_group_id) is None:
        raise NotFound(f"group {target_group_id!r} not found")
    if target_devices is not None:
        await refuse_unknown(conn, target_devices)  # 400 naming them
    # ${iotcloud:artifact-url:NAME}: each artifact must exist (400), and stays while the job exists unfinished
    artifacts = referenced_names(document_params)
    await lock_for_job(conn, artifacts)

    quota = await quotas.check_new_job(conn)  # active jobs (403 at the quota), and the executions' quota
    job_id = job_id or str(uuid.uuid4())
    expires_at = now + timedelta(hours=expires_in_hours) if expires_in_hours is not None else None
    retry_failed, retry_timed_out = configs.retry_config.retries() if configs.retry_config else (None, None)
    start_at = schedule.start_time if schedule else None
    scheduled = start_at is not None and start_at > now
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
        target_selection.value,
        artifacts,
        JobStatus.SCHEDULED.value if scheduled else JobStatus.IN_PROGRESS.value,
        *configs.as_json(),
        retry_failed,
        retry_timed_out,
        start_at,
        schedule.end_time if schedule else None,
        schedule.end_behavior_or_default() if schedule else None,
        None,
        target_devices.described() if target_devices is not None else None,
    )
    if inserted is None:
        raise Conflict(f"job {job_id!r} already exists")

    if target_device_id is not None:
        tag = await conn.execute(q.FAN_OUT_DEVICE, job_id, now, target_device_id)
    elif target_group_id is not None:
        tag = await conn.execute(q.FAN_OUT_GROUP, job_id, now, target_group_id)
    elif target_devices is not None and target_devices.device_ids is not None:
        tag = await conn.execute(q.FAN_OUT_LISTED, job_id, now, target_devices.device_ids)
    elif target_devices is not None:
        tag = await conn.execute(q.FAN_OUT_MATCHING, job_id, now, *target_devices.filter_params())
    else:
        tag = await conn.execute(q.FAN_OUT_ALL, job_id, now)
    count = int(tag.rsplit(" ", 1)[-1])
    if count == 0 and not is_continuous:
        what = (
            f"device {target_device_id!r} is no longer active"
            if target_device_id is not None
            else f"group {target_group_id!r} has no active members"
            if target_group_id is not None
            else "the selection has no active devices"
            if target_devices is not None
            else "the fleet has no active devices"
        )
        raise BadRequest(f"{what}: a job needs at least one device")
    quota.check_fan_out(count)  # 403 over the quota: the transaction, job and executions, rolls back
    await conn.execute(q.INIT_COUNTERS, job_id, count)
    await conn.execute(q.SET_EXECUTION_COUNT, job_id, count, configs.gated)
    if count and not configs.gated:  # reached now (else by the rollout tick's start or release)
        await notify.jobs_reached(conn, [job_id], [target_device_id])
    row = await conn.fetchrow(q.GET_JOB, job_id)
    assert row is not None
    return job_view(row)


async def get_job(conn: asyncpg.Connection, job_id: str, now: datetime | None = None) -> dict[str, Any]:
    row = await conn.fetchrow(q.GET_JOB, job_id)
    if row is None:
        raise NotFound(f"job {job_id!r} not found")
    return job_view(row, now)


async def get_job_with_executions(
    conn: asyncpg.Connection, job_id: str, limit: int = EMBEDDED_EXECUTIONS, now: datetime | None = None
) -> dict[str, Any]:
    job = await get_job(conn, job_id, now)
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
    conn: asyncpg.Connection, job_id: str, device_id: str, limit: int = EVENTS_PAGE, after: int | None = None
) -> dict[str, Any]:
    """One page of an execution's history in event order; `next_after` continues it (None: the end)."""
    if await conn.fetchval(q.EXECUTION_EXISTS, job_id, device_id) is None:
        raise NotFound(f"no execution of job {job_id!r} for device {device_id!r}")
    rows = await conn.fetch(q.EXECUTION_EVENTS, job_id, device_id, after or 0, limit + 1)
    events = [dict(r) for r in rows[:limit]]
    more = len(rows) > limit
    return {
        "job_id": job_id,
        "device_id": device_id,
        "events": events,
        "limit": limit,
        "next_after": events[-1]["event_id"] if more else None,
    }


async def device_executions(
    conn: asyncpg.Connection, device_id: str, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    if await conn.fetchval(q.DEVICE_EXISTS, device_id) is None:
        raise NotFound(f"device {device_id!r} not found")
    rows = await conn.fetch(q.DEVICE_EXECUTIONS, device_id, status, limit, offset)
    total = await conn.fetchval(q.COUNT_DEVICE_EXECUTIONS, device_id, status)
    return {
        "device_id": device_id,
        "executions": [dict(r) for r in rows],
        "total": int(total),
        "limit": limit,
        "offset": offset,
    }


async def cancel_job(
    pool: asyncpg.Pool,
    tenant_id: str,
    job_id: str,
    reason: str | None,
    now: datetime,
    batch: int = SWEEP_BATCH,
    *,
    mode: CancelMode = CancelMode.REJECT,
    reason_code: str | None = None,
    audit: AuditHook | None = None,
) -> dict[str, Any]:
    """The job becomes CANCELED (from then on no device can start its work), then its QUEUED executions
    move in batches (reason in status_details): to REJECTED (`DELETE`, mode reject) or CANCELED (AWS
    CancelJob, mode cancel); with mode force its IN_PROGRESS executions are CANCELED too, else they may still
    finish. The mode is stored on the job, so should the sweep be cut short, the jobs tick finishes it the
    same way. `moved` is how many executions this call moved. `audit` runs in the cancel's transaction."""
    async with tenant_tx(pool, tenant_id) as conn:
        if await conn.fetchval(q.CANCEL_JOB, job_id, now, reason, mode.value, reason_code) is None:
            status = await conn.fetchval(q.JOB_STATUS, job_id)
            if status is None:
                raise NotFound(f"job {job_id!r} not found")
            raise Conflict(
                f"job {job_id!r} is {status}; only an IN_PROGRESS job can be canceled", status=status
            )
        if audit is not None:
            await audit(conn)
    swept = SweepResult()
    try:
        await sweep_job(pool, tenant_id, job_id, Actor.OPERATOR, now, batch, into=swept)
    except DB_ERRORS as exc:  # the cancel stands; the jobs tick moves what is left
        log.warning(
            "cancel of %s/%s: sweep left to the jobs tick (%s)", tenant_id, job_id, type(exc).__name__
        )
    return {
        "job_id": job_id,
        "status": JobStatus.CANCELED.value,
        "moved": swept.moved,
        "sweep_complete": swept.swept,
    }


# Why iotcloud.move_executions refused an operator's cancel of one execution (the code goes along as
# `reason`).
CANCEL_REFUSALS: dict[str, str] = {
    "version_mismatch": "stale expected_version {expected}; current is {execution_number}",
    "not_allowed": "the execution is {status}; only a QUEUED or IN_PROGRESS execution can be canceled",
    "not_forced": "the execution is IN_PROGRESS; cancel it with force: true",
    "raced": "the execution changed while this cancel was decided; read it and retry",
}


async def cancel_execution(
    conn: asyncpg.Connection,
    job_id: str,
    device_id: str,
    *,
    force: bool,
    expected_version: int | None,
    now: datetime,
) -> dict[str, Any]:
    """The operator cancels one execution (AWS CancelJobExecution): QUEUED -> CANCELED, IN_PROGRESS ->
    CANCELED only with force; `expected_version` must then be its execution_number. One request to
    iotcloud.move_executions (counters, history and the job's completion included). Repeating the same
    cancel answers the current state; any other refusal raises Conflict with the reason and the state."""
    details: dict[str, Any] = {"reason": "execution_canceled"} | ({"force": True} if force else {})
    row = await conn.fetchrow(q.CANCEL_EXECUTION, now, job_id, device_id, details, expected_version, force)
    assert row is not None
    return answer(
        row,
        Actor.OPERATOR,
        CANCEL_REFUSALS,
        not_found=f"no execution of job {job_id!r} for device {device_id!r}",
        otherwise="cannot cancel the execution: {reason}",
        expected=expected_version,
    )

"""Deleting jobs and executions (AWS DeleteJob and DeleteJobExecution): gone from every list, their
history with them, the counters of what remains exact (db/functions/065_lifecycle.sql).

A job is first marked deleting in one short transaction (from then on it is hidden from every read and no
device can move its executions: they get 404), then deleted in batches, each its own transaction
(iotcloud.delete_job_batch: a keyset window of executions, their history and counts; the last batch deletes
the job). The request runs the batches; should it be cut short, the jobs tick finishes them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.audit import AuditHook
from shared.errors import Conflict, NotFound
from shared.infra.db import DB_ERRORS, retrying_tenant_tx, tenant_tx, tx
from shared.jobs import queries as q
from shared.jobs.outcome import STATE_FIELDS, answer
from shared.jobs.service import job_view
from shared.jobs.states import Actor

log = logging.getLogger("iotcloud.jobs.deletion")

DELETE_BATCH = 10_000

# Marks the job deleting: needs force while it runs with active executions (AWS: an IN_PROGRESS job).
MARK_DELETING = """
UPDATE jobs j SET deleting_at = $2, updated_at = $2
 WHERE j.job_id = $1 AND j.deleting_at IS NULL
   AND ($3 OR j.status <> 'IN_PROGRESS'
        OR NOT EXISTS (SELECT 1 FROM job_counters c
                        WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id
                          AND c.queued + c.in_progress > 0))
RETURNING j.job_id
"""

DELETE_JOB_BATCH = "SELECT * FROM iotcloud.delete_job_batch($1, $2, $3, $4)"

DELETE_EXECUTION = "SELECT * FROM iotcloud.delete_execution($1, $2, $3, $4, $5)"

TENANTS_DELETING_JOBS = "SELECT t FROM iotcloud.tenants_deleting_jobs() AS t"

JOBS_DELETING = "SELECT j AS job_id FROM iotcloud.jobs_deleting($1) AS j"


@dataclass
class DeleteResult:
    deleted: int = 0  # executions deleted
    batches: int = 0
    done: bool = False  # the job row is gone


async def delete_batches(
    pool: asyncpg.Pool,
    tenant_id: str,
    job_id: str,
    now: datetime,
    batch: int = DELETE_BATCH,
    *,
    into: DeleteResult | None = None,
) -> DeleteResult:
    """Deletes a job marked deleting, batch by batch, to its end; `into` holds the progress should a batch
    fail."""
    result = into if into is not None else DeleteResult()
    after = ""
    while True:

        async def one_batch(conn: asyncpg.Connection, after: str = after) -> asyncpg.Record:
            row = await conn.fetchrow(DELETE_JOB_BATCH, now, job_id, after, batch)
            assert row is not None
            return row

        row = await retrying_tenant_tx(pool, tenant_id, one_batch)
        result.deleted += row["deleted"]
        result.batches += 1
        if row["done"] or row["last_device_id"] is None:
            result.done = bool(row["done"])
            return result
        after = row["last_device_id"]


async def delete_job(
    pool: asyncpg.Pool,
    tenant_id: str,
    job_id: str,
    *,
    force: bool,
    now: datetime,
    batch: int = DELETE_BATCH,
    audit: AuditHook | None = None,
) -> dict[str, Any]:
    """AWS DeleteJob. A job IN_PROGRESS with QUEUED or IN_PROGRESS executions needs `force` (else Conflict
    with its current state). `audit` runs in the transaction that marks the job deleting."""
    async with tenant_tx(pool, tenant_id) as conn:
        if await conn.fetchval(MARK_DELETING, job_id, now, force) is None:
            row = await conn.fetchrow(q.GET_JOB, job_id)
            if row is None:
                raise NotFound(f"job {job_id!r} not found")
            job = job_view(row)
            active = job["counts"]["queued"] + job["counts"]["in_progress"]
            raise Conflict(
                f"job {job_id!r} is IN_PROGRESS with {active} active executions; delete it with force: true",
                reason="not_forced",
                status=job["status"],
                counts=job["counts"],
            )
        if audit is not None:
            await audit(conn)
    result = DeleteResult()
    try:
        await delete_batches(pool, tenant_id, job_id, now, batch, into=result)
    except DB_ERRORS as exc:  # the job is hidden and refused to devices; the jobs tick deletes what is left
        log.warning("delete of %s/%s: left to the jobs tick (%s)", tenant_id, job_id, type(exc).__name__)
    return {
        "job_id": job_id,
        "force": force,
        "deleted_executions": result.deleted,
        "delete_complete": result.done,
    }


# Why iotcloud.delete_execution refused (the code goes along as `reason`).
DELETE_REFUSALS: dict[str, str] = {
    "version_mismatch": "stale execution_number {expected}; current is {execution_number}",
    "not_forced": "the execution is {status}; delete it with force: true",
    "raced": "the execution changed while this delete was decided; read it and retry",
}


async def delete_execution(
    conn: asyncpg.Connection,
    job_id: str,
    device_id: str,
    *,
    force: bool,
    execution_number: int | None,
    now: datetime,
) -> dict[str, Any]:
    """AWS DeleteJobExecution: the execution (QUEUED or IN_PROGRESS only with force; at `execution_number`
    if given) and its history are deleted, its counts taken off the job; deleting the last active execution
    of a running job completes the job. Answers the execution as it was, with `job_completed`."""
    row = await conn.fetchrow(DELETE_EXECUTION, now, job_id, device_id, force, execution_number)
    assert row is not None
    if row["outcome"] == "deleted":
        return {**{k: row[k] for k in STATE_FIELDS}, "job_completed": row["job_completed"]}
    return answer(
        row,
        Actor.OPERATOR,
        DELETE_REFUSALS,
        not_found=f"no execution of job {job_id!r} for device {device_id!r}",
        otherwise="cannot delete the execution: {reason}",
        expected=execution_number,
    )


async def finish_deletions(
    pool: asyncpg.Pool, now: datetime, *, batch: int = DELETE_BATCH, max_jobs: int = 100
) -> DeleteResult:
    """The jobs tick's part: finishes the deletion of every job marked deleting (of every tenant)."""
    total = DeleteResult(done=True)
    async with tx(pool) as conn:
        tenants = [r["t"] for r in await conn.fetch(TENANTS_DELETING_JOBS)]
    for tenant_id in tenants:
        async with tenant_tx(pool, tenant_id) as conn:
            job_ids = [r["job_id"] for r in await conn.fetch(JOBS_DELETING, max_jobs)]
        for job_id in job_ids:
            one = await delete_batches(pool, tenant_id, job_id, now, batch)
            total.deleted += one.deleted
            total.batches += one.batches
            total.done = total.done and one.done
    return total

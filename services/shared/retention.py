"""Retention: per tenant, how long the history of a finished job and a finished job itself are kept
(tenants.history_retention_days, tenants.finished_job_retention_days; NULL: forever), and the worker's purge,
batch by batch, each batch one short transaction (db/functions/090_retention.sql)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.errors import BadRequest, NotFound

log = logging.getLogger("iotcloud.retention")

PURGE_BATCH = 10_000  # rows per transaction
# a pause after each batch: the purge yields the CPU and the disk to the devices' work between its batches
PURGE_PAUSE_SECONDS = 0.1
MAX_DAYS = 36_500  # as the tenants_*_retention_days checks in db/migrations/090_retention.sql

RETENTION_WORK = "SELECT tenant_id, job_id, kind FROM iotcloud.retention_work($1, $2)"
PURGE_HISTORY = (
    "SELECT deleted, last_device_id, last_event_id FROM iotcloud.purge_history($1, $2, $3, $4, $5, $6)"
)
PURGE_EXECUTIONS = "SELECT deleted, last_device_id FROM iotcloud.purge_executions($1, $2, $3, $4, $5)"
PURGE_JOB = "SELECT iotcloud.purge_job($1, $2, $3)"
PURGE_FAILURE_MINUTES = "SELECT iotcloud.purge_failure_minutes($1, $2)"
# the dashboard's failure counts by minute serve its last hour; a day of them is kept
FAILURE_MINUTES_KEPT = timedelta(days=1)

# owner connection (the CLI): the runtime role only reads tenants
SET_RETENTION = """
UPDATE tenants SET history_retention_days = $2, finished_job_retention_days = $3 WHERE tenant_id = $1
RETURNING tenant_id, name, created_at, history_retention_days, finished_job_retention_days
"""
TENANT_SETTINGS = """
SELECT tenant_id, name, created_at, history_retention_days, finished_job_retention_days FROM tenants
 ORDER BY tenant_id
"""


@dataclass
class PurgeResult:
    events: int = 0
    executions: int = 0
    jobs: int = 0  # jobs deleted
    histories: int = 0  # job histories purged to the end
    failure_minutes: int = 0  # the dashboard's counts by minute, past FAILURE_MINUTES_KEPT
    batches: int = 0
    tenants: set[str] = field(default_factory=set)

    def progress(self) -> tuple[int, int, int, int]:
        return (self.events, self.executions, self.jobs, self.histories)


def _days(value: int | None, what: str) -> int | None:
    """0 or None: keep forever (NULL)."""
    if value is None or value == 0:
        return None
    if not 1 <= value <= MAX_DAYS:
        raise BadRequest(f"{what} must be between 1 and {MAX_DAYS} days, or 0 to keep forever")
    return value


async def set_retention(
    owner: asyncpg.Connection, tenant_id: str, history_days: int | None, finished_jobs_days: int | None
) -> dict[str, Any]:
    row = await owner.fetchrow(
        SET_RETENTION,
        tenant_id,
        _days(history_days, "--history-days"),
        _days(finished_jobs_days, "--finished-jobs-days"),
    )
    if row is None:
        raise NotFound(f"no tenant {tenant_id!r}")
    return dict(row)


async def tenant_settings(owner: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await owner.fetch(TENANT_SETTINGS)]


@dataclass(frozen=True)
class _Purge:
    pool: asyncpg.Pool
    now: datetime
    batch: int
    pause: float

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record:
        row = await self.pool.fetchrow(sql, *args)
        assert row is not None
        if self.pause:
            await asyncio.sleep(self.pause)
        return row


async def _purge_history(p: _Purge, tenant_id: str, job_id: str, result: PurgeResult) -> None:
    after_device, after_event = "", 0
    while True:
        row = await p.fetchrow(PURGE_HISTORY, tenant_id, job_id, p.now, after_device, after_event, p.batch)
        result.batches += 1
        result.events += row["deleted"]
        if row["deleted"] < p.batch:
            result.histories += 1
            return
        after_device, after_event = row["last_device_id"], row["last_event_id"]


async def _purge_job(p: _Purge, tenant_id: str, job_id: str, result: PurgeResult) -> None:
    await _purge_history(p, tenant_id, job_id, result)
    after = ""
    while True:
        row = await p.fetchrow(PURGE_EXECUTIONS, tenant_id, job_id, p.now, after, p.batch)
        result.batches += 1
        result.executions += row["deleted"]
        if row["deleted"] < p.batch:
            break
        after = row["last_device_id"]
    if await p.pool.fetchval(PURGE_JOB, tenant_id, job_id, p.now):
        result.jobs += 1


async def run_retention_tick(
    pool: asyncpg.Pool,
    now: datetime,
    *,
    batch_size: int = PURGE_BATCH,
    max_jobs: int = 100,
    pause: float = PURGE_PAUSE_SECONDS,
) -> PurgeResult:
    """Purges what the tenants' retention makes due at `now`, oldest job first, up to `max_jobs` jobs per
    round, until nothing is due. Every call is one statement: a short transaction of at most `batch_size`
    rows, so polls and updates of other jobs never wait long behind it, and `pause` seconds between them."""
    result = PurgeResult()
    p = _Purge(pool, now, batch_size, pause)
    while True:
        before = result.progress()
        work = await pool.fetch(RETENTION_WORK, now, max_jobs)
        for w in work:
            result.tenants.add(w["tenant_id"])
            if w["kind"] == "job":
                await _purge_job(p, w["tenant_id"], w["job_id"], result)
            else:
                await _purge_history(p, w["tenant_id"], w["job_id"], result)
        if len(work) < max_jobs or result.progress() == before:  # all done, or no more can be
            break
    while True:
        deleted = await pool.fetchval(PURGE_FAILURE_MINUTES, now - FAILURE_MINUTES_KEPT, batch_size)
        result.failure_minutes += deleted
        if deleted < batch_size:
            break
    if result.batches:
        log.info(
            "retention: %d events, %d executions, %d jobs purged (%d tenants, %d batches)",
            result.events,
            result.executions,
            result.jobs,
            len(result.tenants),
            result.batches,
        )
    return result

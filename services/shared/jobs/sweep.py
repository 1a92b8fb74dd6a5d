"""A job's QUEUED sweep, batch by batch: when it expires (QUEUED -> TIMED_OUT, by the worker) or is
canceled (QUEUED -> REJECTED for DELETE, -> CANCELED for CancelJob; with force, IN_PROGRESS -> CANCELED too:
the job's cancel_mode says which). Each batch is one transaction calling iotcloud.sweep_queued
(db/functions/040_sweeps.sql), which moves a keyset window of the job's executions through
iotcloud.move_executions (counters, history and completion included) and marks the job swept when the
window reaches its end. No batch holds locks for long; a sweep cut short is finished by the next tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.infra.db import retrying_tenant_tx
from shared.jobs import queries as q
from shared.jobs.states import Actor

SWEEP_BATCH = 20_000


@dataclass
class SweepResult:
    moved: int = 0
    batches: int = 0
    swept: bool = False
    completed: bool = False


async def sweep_job(
    pool: asyncpg.Pool,
    tenant_id: str,
    job_id: str,
    actor: Actor,
    now: datetime,
    batch: int = SWEEP_BATCH,
    *,
    into: SweepResult | None = None,
) -> SweepResult:
    """Sweeps the job to its end; `into` (if given) holds the progress made should a batch fail."""
    result = into if into is not None else SweepResult()
    after = ""
    while True:

        async def one_batch(conn: asyncpg.Connection, after: str = after) -> asyncpg.Record:
            row = await conn.fetchrow(q.SWEEP_QUEUED, actor.value, now, job_id, after, batch)
            assert row is not None
            return row

        row = await retrying_tenant_tx(pool, tenant_id, one_batch)
        result.moved += row["moved"]
        result.completed = result.completed or row["completed"]
        if row["scanned"]:
            result.batches += 1
        if row["swept"] or row["last_device_id"] is None:
            result.swept = bool(row["swept"])
            return result
        after = row["last_device_id"]

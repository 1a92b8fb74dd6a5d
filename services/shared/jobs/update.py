"""Changing a running job's abort, retry and in-progress-timeout configs (AWS UpdateJob). One guarded
statement: a job that has finished (COMPLETED, CANCELED) or is being deleted is refused. What changes applies
from then on: the worker's abort check reads the job's abort_config at each tick, a failure's retry reads
retry_failed / retry_timed_out when it happens, and an execution's in-progress deadline is set when it
starts (executions already IN_PROGRESS keep theirs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import BadRequest, Conflict, NotFound
from shared.jobs import queries as q
from shared.jobs.configs import AbortConfig, RetryConfig
from shared.jobs.service import get_job

# $2/$4/$8: whether abort_config, retry_config (with its derived retries $6, $7), in_progress_timeout_minutes
# are given (each may be set to NULL: no abort, no retries, no timeout).
UPDATE_JOB = """
UPDATE jobs
   SET abort_config = CASE WHEN $2 THEN $3::jsonb ELSE abort_config END,
       retry_config = CASE WHEN $4 THEN $5::jsonb ELSE retry_config END,
       retry_failed = CASE WHEN $4 THEN $6::smallint ELSE retry_failed END,
       retry_timed_out = CASE WHEN $4 THEN $7::smallint ELSE retry_timed_out END,
       in_progress_timeout_minutes = CASE WHEN $8 THEN $9::int ELSE in_progress_timeout_minutes END,
       updated_at = $10
 WHERE job_id = $1 AND deleting_at IS NULL AND status IN ('IN_PROGRESS', 'SCHEDULED')
RETURNING job_id
"""

UNSET = object()


async def update_job(
    conn: asyncpg.Connection,
    job_id: str,
    *,
    abort_config: AbortConfig | object | None = UNSET,
    retry_config: RetryConfig | object | None = UNSET,
    in_progress_timeout_minutes: int | object | None = UNSET,
    now: datetime,
) -> dict[str, Any]:
    """Sets the given configs (UNSET: left as they are; None: removed). Answers the job as it is then."""
    if abort_config is UNSET and retry_config is UNSET and in_progress_timeout_minutes is UNSET:
        raise BadRequest("nothing to update: give abort_config, retry_config or in_progress_timeout_minutes")
    abort = (
        abort_config.model_dump(mode="json", exclude_none=True)
        if isinstance(abort_config, AbortConfig)
        else None
    )
    retry = (
        retry_config.model_dump(mode="json", exclude_none=True)
        if isinstance(retry_config, RetryConfig)
        else None
    )
    failed, timed_out = retry_config.retries() if isinstance(retry_config, RetryConfig) else (None, None)
    timeout = in_progress_timeout_minutes if isinstance(in_progress_timeout_minutes, int) else None
    row = await conn.fetchval(
        UPDATE_JOB,
        job_id,
        abort_config is not UNSET,
        abort,
        retry_config is not UNSET,
        retry,
        failed,
        timed_out,
        in_progress_timeout_minutes is not UNSET,
        timeout,
        now,
    )
    if row is None:
        status = await conn.fetchval(q.JOB_STATUS, job_id)
        if status is None:
            raise NotFound(f"job {job_id!r} not found")
        raise Conflict(
            f"job {job_id!r} is {status}; only a running or scheduled job can be updated", status=status
        )
    return await get_job(conn, job_id, now)

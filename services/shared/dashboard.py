"""The console's dashboard: the tenant's fleet and jobs at a glance, read on a tenant-scoped connection (RLS).

Each figure is one set-based statement, cheap at fleet size:
- devices: one pass over the tenant's device_state rows ("online" is shared/devices.py's definition);
- jobs: counts by status, and the active jobs with the per-status counters the jobs keep (job_counters),
  never a count over their executions;
- failures of the last hour: the moves to FAILED, TIMED_OUT or REJECTED, counted by minute, job, status
  and reason as they happen (job_failure_minutes, migration 097, kept by the move primitive in the
  statement that writes their history rows), so the read costs a few rows per minute, however many
  executions failed.
The caller's `now` (the request's clock) bounds every window; a failure counts from the minute it
happened in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.devices import ONLINE_SQL, ONLINE_WINDOW
from shared.jobs.queries import JOB_SELECT
from shared.jobs.service import job_view
from shared.jobs.states import ExecutionStatus, JobStatus

FAILURE_WINDOW = timedelta(hours=1)
ACTIVE_JOBS_SHOWN = 20
FAILURE_ROWS_SHOWN = 10
FAILURE_STATUSES = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.REJECTED)
ACTIVE_JOB_STATUSES = (JobStatus.IN_PROGRESS, JobStatus.SCHEDULED)

# $1: the start of the online window
DEVICE_COUNTS = f"""
SELECT count(*)::int AS total,
       count(*) FILTER (WHERE status = 'ACTIVE')::int AS active,
       count(*) FILTER (WHERE status = 'REVOKED')::int AS revoked,
       count(*) FILTER (WHERE {ONLINE_SQL.format(since="$1")})::int AS online
  FROM device_state
"""

JOB_COUNTS = "SELECT status, count(*)::int AS n FROM jobs WHERE deleting_at IS NULL GROUP BY status"

# $1: active statuses, $2: how many
ACTIVE_JOBS = (
    JOB_SELECT
    + """
 WHERE j.status = ANY($1::text[]) AND j.deleting_at IS NULL
 ORDER BY j.created_at DESC, j.job_id DESC
 LIMIT $2
"""
)

# The failure rows of the window, once, for both groupings. $1: failure statuses, $2: since, $3: now.
_FAILURES = """
WITH f AS MATERIALIZED (
    SELECT m.job_id, m.to_status, nullif(m.reason, '') AS reason, m.failures
      FROM job_failure_minutes m
     WHERE m.to_status = ANY($1::text[]) AND m.minute > $2 AND m.minute <= $3
       AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.job_id = m.job_id AND j.deleting_at IS NOT NULL)
)
"""

# $4: how many rows of each grouping
FAILURES = (
    _FAILURES
    + """
SELECT 'total' AS grouping, NULL AS job_id, NULL AS status, NULL AS reason,
       coalesce(sum(failures), 0)::int AS failures FROM f
UNION ALL
(SELECT 'job', job_id, NULL, NULL, sum(failures)::int AS failures FROM f
  GROUP BY job_id ORDER BY failures DESC, job_id LIMIT $4)
UNION ALL
(SELECT 'reason', NULL, to_status, reason, sum(failures)::int AS failures FROM f
  GROUP BY to_status, reason ORDER BY failures DESC, to_status, reason NULLS FIRST LIMIT $4)
"""
)

_ACTIVE_JOB_FIELDS = (
    "job_id",
    "document_type",
    "status",
    "execution_count",
    "counts",
    "progress",
    "created_at",
)


async def dashboard(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
    devices = dict(await conn.fetchrow(DEVICE_COUNTS, now - ONLINE_WINDOW) or {})  # one row, always
    job_counts = {r["status"]: r["n"] for r in await conn.fetch(JOB_COUNTS)}
    active = [
        {k: v for k, v in job_view(r, now).items() if k in _ACTIVE_JOB_FIELDS}
        for r in await conn.fetch(ACTIVE_JOBS, [s.value for s in ACTIVE_JOB_STATUSES], ACTIVE_JOBS_SHOWN)
    ]
    since = now - FAILURE_WINDOW
    rows = await conn.fetch(FAILURES, [s.value for s in FAILURE_STATUSES], since, now, FAILURE_ROWS_SHOWN)
    return {
        "at": now,
        "devices": {
            **devices,
            "offline": devices["active"] - devices["online"],
            "online_window_seconds": int(ONLINE_WINDOW.total_seconds()),
        },
        "jobs": {
            "by_status": {s.value: job_counts.get(s.value, 0) for s in JobStatus},
            "active_total": sum(job_counts.get(s.value, 0) for s in ACTIVE_JOB_STATUSES),
            "active": active,
        },
        "failures": {
            "since": since,
            "total": next(r["failures"] for r in rows if r["grouping"] == "total"),
            "by_job": [
                {"job_id": r["job_id"], "failures": r["failures"]} for r in rows if r["grouping"] == "job"
            ],
            "by_reason": [
                {"status": r["status"], "reason": r["reason"], "failures": r["failures"]}
                for r in rows
                if r["grouping"] == "reason"
            ],
        },
    }

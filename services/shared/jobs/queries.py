"""Named SQL of the jobs domain. Every statement runs in a tenant transaction (RLS applies); values reach
SQL only as bind parameters. Column names never come from input."""

from __future__ import annotations

from shared.jobs.states import COUNTER_COLUMNS

SHARDS = 16  # counter rows per job (see job_counters in 077_iot_jobs.sql)

TENANT = "current_setting('app.tenant_id')"

# --- create and fan out --------------------------------------------------------------------------------

INSERT_JOB = f"""
INSERT INTO jobs (tenant_id, job_id, document_type, document_params, target_device_id, target_group_id,
                  target_all, expires_at, created_by, created_at, updated_at, in_progress_timeout_minutes)
VALUES ({TENANT}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
ON CONFLICT (tenant_id, job_id) DO NOTHING
RETURNING job_id
"""

_FAN_OUT = f"""
INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, shard, queued_at,
                            last_updated_at)
SELECT {TENANT}, $1, t.device_id, 'QUEUED', 1, ((row_number() OVER ()) - 1) % {SHARDS}, $2, $2
  FROM ({{targets}}) t
"""

# Snapshot targeting: the devices targeted now get executions; devices added later do not.
FAN_OUT_DEVICE = _FAN_OUT.format(
    targets=f"SELECT d.device_id FROM device_state d WHERE d.tenant_id = {TENANT} AND d.device_id = $3 "
    "AND d.status = 'ACTIVE'"
)
FAN_OUT_GROUP = _FAN_OUT.format(
    targets=f"SELECT m.device_id FROM device_group_members m JOIN device_state d "
    f"ON d.tenant_id = m.tenant_id AND d.device_id = m.device_id "
    f"WHERE m.tenant_id = {TENANT} AND m.group_id = $3 AND d.status = 'ACTIVE'"
)
FAN_OUT_ALL = _FAN_OUT.format(
    targets=f"SELECT d.device_id FROM device_state d WHERE d.tenant_id = {TENANT} AND d.status = 'ACTIVE'"
)

# Counts per shard follow from the fan-out numbering: shard s holds ceil((n - s) / SHARDS) executions.
INIT_COUNTERS = f"""
INSERT INTO job_counters (tenant_id, job_id, shard, queued)
SELECT {TENANT}, $1, s, ($2 - s + {SHARDS} - 1) / {SHARDS}
  FROM generate_series(0, least($2, {SHARDS}) - 1) AS s
"""

SET_EXECUTION_COUNT = "UPDATE jobs SET execution_count = $2 WHERE job_id = $1"

DEVICE_STATUS = "SELECT status FROM device_state WHERE device_id = $1"
GROUP_EXISTS = "SELECT 1 FROM device_groups WHERE group_id = $1"

# --- read ----------------------------------------------------------------------------------------------

_SUMS = ", ".join(f"coalesce(sum(c.{col}), 0)::int AS {col}" for col in COUNTER_COLUMNS.values())

JOB_SELECT = f"""
SELECT j.job_id, j.document_type, j.document_params, j.target_device_id, j.target_group_id, j.target_all,
       j.status, j.execution_count, j.expires_at, j.in_progress_timeout_minutes, j.created_by, j.created_at,
       j.updated_at,
       j.completed_at, j.canceled_at, j.cancel_reason, c.*
  FROM jobs j
 CROSS JOIN LATERAL (SELECT {_SUMS} FROM job_counters c
                      WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id) c
"""

GET_JOB = JOB_SELECT + " WHERE j.job_id = $1"

LIST_JOBS = (
    JOB_SELECT
    + """
 WHERE ($1::text IS NULL OR j.status = $1) AND ($2::text IS NULL OR j.document_type = $2)
 ORDER BY j.created_at DESC, j.job_id DESC
 LIMIT $3 OFFSET $4
"""
)

COUNT_JOBS = """
SELECT count(*) FROM jobs j
 WHERE ($1::text IS NULL OR j.status = $1) AND ($2::text IS NULL OR j.document_type = $2)
"""

EXECUTION_COLUMNS = """e.device_id, e.status, e.status_details, e.execution_number, e.queued_at, e.started_at,
       e.last_updated_at"""

LIST_EXECUTIONS = f"""
SELECT {EXECUTION_COLUMNS}
  FROM job_executions e
 WHERE e.tenant_id = {TENANT} AND e.job_id = $1 AND ($2::text IS NULL OR e.status = $2)
   AND ($5::text IS NULL OR e.device_id > $5)
 ORDER BY e.device_id
 LIMIT $3 OFFSET $4
"""

EXECUTION_EXISTS = "SELECT 1 FROM job_executions WHERE job_id = $1 AND device_id = $2"

EXECUTION_EVENTS = """
SELECT event_id, job_id, device_id, from_status, to_status, actor, execution_number, status_details, at
  FROM job_execution_events
 WHERE job_id = $1 AND device_id = $2
 ORDER BY event_id
 LIMIT $3
"""

DEVICE_EXISTS = "SELECT 1 FROM device_state WHERE device_id = $1"

DEVICE_EXECUTIONS = f"""
SELECT e.job_id, j.document_type, j.status AS job_status, {EXECUTION_COLUMNS}, count(*) OVER () AS total
  FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE e.tenant_id = {TENANT} AND e.device_id = $1 AND ($2::text IS NULL OR e.status = $2)
 ORDER BY e.queued_at DESC, e.job_id
 LIMIT $3 OFFSET $4
"""

# --- device side ---------------------------------------------------------------------------------------

DEVICE_EXECUTION = f"""
SELECT e.job_id, {EXECUTION_COLUMNS}, j.document_type, j.document_params, j.expires_at,
       j.status AS job_status, e.timeout_at
  FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE e.tenant_id = {TENANT} AND e.job_id = $1 AND e.device_id = $2
"""

# A device's hot calls authenticate and work in one statement each (db/migrations/078_device_calls.sql):
# the poll (IN_PROGRESS first, then oldest first; jobs past expires_at left out) and the guarded move of
# its own execution, which also counts it, records the event and completes the job when it was the last.
DEVICE_PENDING = "SELECT * FROM iot_device_pending($1, $2, $3, $4)"

DEVICE_TRANSITION = "SELECT * FROM iot_device_transition($1, $2, $3, $4, $5, $6, $7, $8, $9)"


def _counter_moves(src: str, dst: str, n: str) -> str:
    """SET list moving `n` from the counter of status `src` to that of `dst` (both SQL expressions)."""
    return ",\n       ".join(
        f"{col} = c.{col} - (CASE WHEN {src} = '{status.value}' THEN {n} ELSE 0 END)"
        f" + (CASE WHEN {dst} = '{status.value}' THEN {n} ELSE 0 END)"
        for status, col in COUNTER_COLUMNS.items()
    )


# --- completion ----------------------------------------------------------------------------------------
# Whoever brings a counter shard to zero active executions locks the job row and then, in a new
# statement (fresh snapshot), completes the job if no shard has active executions left. The last such
# transaction to take the lock sees every other one committed, so the job completes exactly once.
# (The device's own move does the same inside iot_device_transition.)

LOCK_JOB = "SELECT status FROM jobs WHERE job_id = $1 FOR UPDATE"

COMPLETE_IF_DONE = """
UPDATE jobs j SET status = 'COMPLETED', completed_at = $2, updated_at = $2
 WHERE j.job_id = $1 AND j.status = 'IN_PROGRESS'
   AND NOT EXISTS (SELECT 1 FROM job_counters c
                    WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id AND c.queued + c.in_progress > 0)
RETURNING j.job_id
"""

# --- bulk moves (operator cancel, worker expiry) --------------------------------------------------------

JOB_STATUS = "SELECT status FROM jobs WHERE job_id = $1"

# Counter rows are locked in shard order so that bulk moves never deadlock each other.
LOCK_COUNTERS = """
SELECT shard FROM job_counters WHERE job_id = $1 AND shard = ANY($2::smallint[]) ORDER BY shard FOR UPDATE
"""

MOVE_COUNTS = f"""
UPDATE job_counters c
   SET {_counter_moves("$2", "$3", "d.n")}
  FROM unnest($4::smallint[], $5::int[]) AS d(shard, n)
 WHERE c.tenant_id = {TENANT} AND c.job_id = $1 AND c.shard = d.shard
"""

_BULK_AGG = """
, agg AS (SELECT shard, count(*)::int AS n FROM upd GROUP BY shard)
SELECT coalesce((SELECT array_agg(shard ORDER BY shard) FROM agg), '{}') AS shards,
       coalesce((SELECT array_agg(n ORDER BY shard) FROM agg), '{}') AS counts"""

REJECT_QUEUED = f"""
WITH upd AS (
    UPDATE job_executions e
       SET status = 'REJECTED', status_details = $2, execution_number = e.execution_number + 1,
           last_updated_at = $3
     WHERE e.tenant_id = {TENANT} AND e.job_id = $1 AND e.status = 'QUEUED'
    RETURNING e.device_id, e.shard, e.execution_number
), ev AS (
    INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor,
                                      execution_number, status_details, at)
    SELECT {TENANT}, $1, u.device_id, 'QUEUED', 'REJECTED', 'operator', u.execution_number, $2, $3 FROM upd u
){_BULK_AGG}
"""

CANCEL_JOB = """
UPDATE jobs SET status = 'CANCELED', canceled_at = $2, updated_at = $2, cancel_reason = $3
 WHERE job_id = $1 AND status = 'IN_PROGRESS'
RETURNING job_id, status
"""

EXPIRED_JOBS = """
SELECT job_id FROM jobs
 WHERE status = 'IN_PROGRESS' AND expires_at IS NOT NULL AND expires_at <= $1
 ORDER BY expires_at, job_id
 LIMIT $2
"""

TENANTS_WITH_EXPIRED_JOBS = "SELECT t FROM iot_tenants_with_expired_jobs($1) AS t"

# One bounded batch of expiry: a window of the job's executions in key order (keyset), of which the
# QUEUED ones become TIMED_OUT. The UPDATE addresses the window as a primary-key range (last, hi], so each
# batch reads only its own rows (a join against the window made the planner scan the whole job per batch).
# Executions are only ever created with their job, so the range holds exactly the window's rows.
TIME_OUT_BATCH = f"""
WITH win AS (
    SELECT e.device_id FROM job_executions e
     WHERE e.tenant_id = {TENANT} AND e.job_id = $1 AND e.device_id > $2
     ORDER BY e.device_id
     LIMIT $3
), bounds AS (
    SELECT max(device_id) AS hi, count(*)::int AS scanned FROM win
), upd AS (
    UPDATE job_executions e
       SET status = 'TIMED_OUT', status_details = $5, execution_number = e.execution_number + 1,
           last_updated_at = $4
      FROM bounds b
     WHERE e.tenant_id = {TENANT} AND e.job_id = $1 AND e.device_id > $2 AND e.device_id <= b.hi
       AND e.status = 'QUEUED'
    RETURNING e.device_id, e.shard, e.execution_number
), ev AS (
    INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor,
                                      execution_number, status_details, at)
    SELECT {TENANT}, $1, u.device_id, 'QUEUED', 'TIMED_OUT', 'worker', u.execution_number, $5, $4 FROM upd u
), agg AS (SELECT shard, count(*)::int AS n FROM upd GROUP BY shard)
SELECT (SELECT hi FROM bounds) AS last_device_id,
       (SELECT scanned FROM bounds) AS scanned,
       coalesce((SELECT array_agg(shard ORDER BY shard) FROM agg), '{{}}') AS shards,
       coalesce((SELECT array_agg(n ORDER BY shard) FROM agg), '{{}}') AS counts
"""

# In-progress timeout: one bounded batch of the tenant's IN_PROGRESS executions past their timeout_at
# (stamped on claim, see 080_in_progress_timeout.sql) becomes TIMED_OUT. Rows a device is updating right now
# are skipped (the device's move or the next tick decides them). Counts come back per job and shard.
TENANTS_WITH_OVERDUE_EXECUTIONS = "SELECT t FROM iot_tenants_with_overdue_executions($1) AS t"

TIME_OUT_OVERDUE_BATCH = f"""
WITH win AS (
    SELECT e.job_id, e.device_id FROM job_executions e
     WHERE e.tenant_id = {TENANT} AND e.status = 'IN_PROGRESS' AND e.timeout_at <= $1
     ORDER BY e.timeout_at
     LIMIT $2
       FOR UPDATE SKIP LOCKED
), upd AS (
    UPDATE job_executions e
       SET status = 'TIMED_OUT', status_details = $3, execution_number = e.execution_number + 1,
           last_updated_at = $1
      FROM win w
     WHERE e.tenant_id = {TENANT} AND e.job_id = w.job_id AND e.device_id = w.device_id
       AND e.status = 'IN_PROGRESS'
    RETURNING e.job_id, e.device_id, e.shard, e.execution_number
), ev AS (
    INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor,
                                      execution_number, status_details, at)
    SELECT {TENANT}, u.job_id, u.device_id, 'IN_PROGRESS', 'TIMED_OUT', 'worker', u.execution_number, $3, $1
      FROM upd u
), agg AS (SELECT job_id, shard, count(*)::int AS n FROM upd GROUP BY job_id, shard)
SELECT job_id, array_agg(shard ORDER BY shard) AS shards, array_agg(n ORDER BY shard) AS counts
  FROM agg GROUP BY job_id ORDER BY job_id
"""

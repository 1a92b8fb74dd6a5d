"""Named SQL of the jobs domain. Every statement runs in a tenant transaction (RLS applies); values reach
SQL only as bind parameters. Column names never come from input. Every status move goes through the
functions of db/functions (iotcloud.move_executions and its callers): no statement here changes a status."""

from __future__ import annotations

from shared.infra.db import TENANT_SQL as TENANT
from shared.jobs.states import COUNTER_COLUMNS
from shared.selection import matching_sql

SHARDS = 16  # counter rows per job (see job_counters in 077_iot_jobs.sql)

# --- create and fan out --------------------------------------------------------------------------------

INSERT_JOB = f"""
INSERT INTO jobs (tenant_id, job_id, document_type, document_params, target_device_id, target_group_id,
                  target_all, expires_at, created_by, created_at, updated_at, in_progress_timeout_minutes,
                  target_selection, artifacts, status, rollout_config, abort_config, retry_config,
                  scheduling_config, retry_failed, retry_timed_out, start_at, end_at, end_behavior,
                  rollout_rate, target_devices)
VALUES ({TENANT}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21, $22, $23, $24)
ON CONFLICT (tenant_id, job_id) DO NOTHING
RETURNING job_id
"""

_FAN_OUT = f"""
INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, shard, rollout_rank,
                            queued_at, last_updated_at)
SELECT {TENANT}, $1, t.device_id, 'QUEUED', 1, (t.n - 1) % {SHARDS}, t.n, $2, $2
  FROM (SELECT x.device_id, row_number() OVER () AS n FROM ({{targets}}) x) t
"""

# The devices targeted now get executions. Devices added later get theirs only from a continuous job
# (shared/jobs/continuous.py).
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
# A selection of devices (shared/selection.py): listed ids ($3), or those matching a filter ($3 pattern,
# $4 status); the ACTIVE ones are targeted.
FAN_OUT_LISTED = _FAN_OUT.format(
    targets="SELECT d.device_id FROM device_state d "
    "JOIN (SELECT DISTINCT unnest($3::text[]) AS device_id) w "
    f"ON d.device_id = w.device_id WHERE d.tenant_id = {TENANT} AND d.status = 'ACTIVE'"
)
FAN_OUT_MATCHING = _FAN_OUT.format(
    targets=f"SELECT d.device_id FROM device_state d WHERE {matching_sql('$3', '$4')} AND d.status = 'ACTIVE'"
)

# Counts per shard follow from the fan-out numbering: shard s holds ceil((n - s) / SHARDS) executions.
INIT_COUNTERS = f"""
INSERT INTO job_counters (tenant_id, job_id, shard, queued)
SELECT {TENANT}, $1, s, ($2 - s + {SHARDS} - 1) / {SHARDS}
  FROM generate_series(0, least($2, {SHARDS}) - 1) AS s
"""

# The fan-out's count; the rollout has ranked them all, and reached them all at once unless it is gated ($3).
SET_EXECUTION_COUNT = """
UPDATE jobs SET execution_count = $2, ranked = $2, released_upto = CASE WHEN $3 THEN 0 ELSE $2 END
 WHERE job_id = $1
"""

DEVICE_STATUS = "SELECT status FROM device_state WHERE device_id = $1 FOR SHARE"

# --- read ----------------------------------------------------------------------------------------------

_SUMS = ", ".join(f"coalesce(sum(c.{col}), 0)::int AS {col}" for col in COUNTER_COLUMNS.values())

JOB_SELECT = f"""
SELECT j.job_id, j.document_type, j.document_params, j.target_device_id, j.target_group_id, j.target_all,
       j.target_devices,
       j.target_selection, j.artifacts, j.status, j.execution_count, j.expires_at,
       j.in_progress_timeout_minutes, j.created_by, j.created_at, j.updated_at,
       j.completed_at, j.canceled_at, j.cancel_reason, j.cancel_reason_code, j.cancel_mode,
       j.rollout_config, j.abort_config, j.retry_config, j.scheduling_config, j.ranked, j.released_upto,
       j.rollout_rate, j.rollout_window_at, j.rollout_stopped_at, j.end_applied_at, j.abort_state,
       j.rollout_log, j.template_id, c.*
  FROM jobs j
 CROSS JOIN LATERAL (SELECT {_SUMS} FROM job_counters c
                      WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id) c
"""

# A job being deleted (deleting_at set) is gone from every read: lists, GET, executions, history.
GET_JOB = JOB_SELECT + " WHERE j.job_id = $1 AND j.deleting_at IS NULL"

LIST_JOBS = (
    JOB_SELECT
    + """
 WHERE ($1::text IS NULL OR j.status = $1) AND ($2::text IS NULL OR j.document_type = $2)
   AND j.deleting_at IS NULL
 ORDER BY j.created_at DESC, j.job_id DESC
 LIMIT $3 OFFSET $4
"""
)

COUNT_JOBS = """
SELECT count(*) FROM jobs j
 WHERE ($1::text IS NULL OR j.status = $1) AND ($2::text IS NULL OR j.document_type = $2)
   AND j.deleting_at IS NULL
"""

EXECUTION_COLUMNS = """e.device_id, e.status, e.status_details, e.execution_number, e.queued_at, e.started_at,
       e.last_updated_at, e.retry_attempt"""

LIST_EXECUTIONS = f"""
SELECT {EXECUTION_COLUMNS}
  FROM job_executions e
 WHERE e.tenant_id = {TENANT} AND e.job_id = $1 AND ($2::text IS NULL OR e.status = $2)
   AND ($5::text IS NULL OR e.device_id > $5)
 ORDER BY e.device_id
 LIMIT $3 OFFSET $4
"""

EXECUTION_EXISTS = """
SELECT 1 FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE e.job_id = $1 AND e.device_id = $2 AND j.deleting_at IS NULL
"""

EXECUTION_EVENTS = """
SELECT event_id, job_id, device_id, from_status, to_status, actor, execution_number, status_details, at
  FROM job_execution_events
 WHERE job_id = $1 AND device_id = $2 AND event_id > $3
 ORDER BY event_id
 LIMIT $4
"""

DEVICE_EXISTS = "SELECT 1 FROM device_state WHERE device_id = $1"

DEVICE_EXECUTIONS = f"""
SELECT e.job_id, j.document_type, j.status AS job_status, {EXECUTION_COLUMNS}
  FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE e.tenant_id = {TENANT} AND e.device_id = $1 AND ($2::text IS NULL OR e.status = $2)
   AND j.deleting_at IS NULL
 ORDER BY e.queued_at DESC, e.job_id
 LIMIT $3 OFFSET $4
"""

COUNT_DEVICE_EXECUTIONS = f"""
SELECT count(*) FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE e.tenant_id = {TENANT} AND e.device_id = $1 AND ($2::text IS NULL OR e.status = $2)
   AND j.deleting_at IS NULL
"""

# --- device side ---------------------------------------------------------------------------------------

DEVICE_EXECUTION = f"""
SELECT e.job_id, {EXECUTION_COLUMNS}, j.document_type, j.document_params, j.expires_at,
       j.status AS job_status, e.timeout_at
  FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE e.tenant_id = {TENANT} AND e.job_id = $1 AND e.device_id = $2 AND j.deleting_at IS NULL
"""

# A device's hot calls authenticate and work in one statement each (db/functions/030_device_calls.sql);
# its moves go through group commit (DEVICE_MOVES below).
DEVICE_POLLS = "SELECT * FROM iotcloud.device_polls($1, $2, $3, $4)"
# Who the device is, for a long-poll that waits (db/functions/030_device_calls.sql): not on the poll's path.
DEVICE_IDENTITY = "SELECT tenant_id, device_id, status FROM iotcloud.device_auth($1, $2, $3)"

# --- operator cancel and the jobs tick (db/functions/040_sweeps.sql) ------------------------------------

CANCEL_JOB = """
UPDATE jobs SET status = 'CANCELED', canceled_at = $2, updated_at = $2, cancel_reason = $3, cancel_mode = $4,
                cancel_reason_code = $5
 WHERE job_id = $1 AND status IN ('IN_PROGRESS', 'SCHEDULED') AND deleting_at IS NULL
RETURNING job_id
"""

# The operator cancels one execution (AWS CancelJobExecution): one request to iotcloud.move_executions.
CANCEL_EXECUTION = """
SELECT * FROM iotcloud.move_executions('operator', $1, ARRAY[$2::text], ARRAY[$3::text], ARRAY['CANCELED'],
                                       ARRAY[$4::jsonb], ARRAY[$5::bigint], $6, NULL)
"""

JOB_STATUS = "SELECT status FROM jobs WHERE job_id = $1 AND deleting_at IS NULL"

# One batch of a job's QUEUED sweep (expiry or cancel), keyset by device_id.
SWEEP_QUEUED = "SELECT * FROM iotcloud.sweep_queued($1, $2, $3, $4, $5)"

JOBS_TO_SWEEP = "SELECT j AS job_id FROM iotcloud.jobs_to_sweep($1, $2) AS j"

TENANTS_TO_SWEEP = "SELECT t FROM iotcloud.tenants_to_sweep($1) AS t"

TENANTS_WITH_OVERDUE_EXECUTIONS = "SELECT t FROM iotcloud.tenants_with_overdue_executions($1) AS t"

TIME_OUT_OVERDUE = "SELECT moved, completed_jobs FROM iotcloud.time_out_overdue($1, $2)"

CANCELED_AMONG = "SELECT job_id, cancel_mode FROM jobs WHERE job_id = ANY($1::text[]) AND status = 'CANCELED'"

# Group commit: many devices' moves in one statement (shared/jobs/group_commit.py).
DEVICE_MOVES = "SELECT * FROM iotcloud.device_moves($1, $2, $3, $4, $5, $6, $7, $8)"

# --- the rollout tick (db/functions/060_rollouts.sql, shared/jobs/rollout.py) ------------------------------

TENANTS_WITH_ROLLOUT_WORK = "SELECT t FROM iotcloud.tenants_with_rollout_work() AS t"
START_SCHEDULED = "SELECT j AS job_id FROM iotcloud.start_scheduled($1) AS j"
ABORT_JOBS = "SELECT job_id, abort_state FROM iotcloud.abort_jobs($1)"
END_SCHEDULES = "SELECT job_id, end_behavior FROM iotcloud.end_schedules($1)"
ROLLOUTS_STOPPING = "SELECT j AS job_id FROM iotcloud.rollouts_stopping() AS j"
STOP_ROLLOUT = "SELECT * FROM iotcloud.stop_rollout($1, $2, $3, $4)"

# Running rollouts with devices left to reach, locked: one tick at a time decides their next release.
ROLLOUTS_TO_RELEASE = f"""
SELECT j.job_id, j.ranked, j.released_upto, j.rollout_rate, j.rollout_next_step, j.rollout_window_at,
       j.rollout_window_count, j.rollout_config, coalesce(j.scheduling_config -> 'maintenance_windows', '[]')
       AS windows,
       (SELECT coalesce(sum(c.succeeded), 0)::int FROM job_counters c
         WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id) AS succeeded
  FROM jobs j
 WHERE j.tenant_id = {TENANT} AND j.status = 'IN_PROGRESS' AND j.released_upto < j.ranked
   AND j.rollout_stopped_at IS NULL AND j.deleting_at IS NULL
 ORDER BY j.job_id
   FOR UPDATE OF j
"""

# The releases decided, one row per job, each guarded by the released_upto it was decided from. A job whose
# release reached devices sends its notification (db/functions/096_notify.sql), delivered on commit.
RELEASE = """
WITH released AS (
UPDATE jobs j
   SET released_upto = r.upto, rollout_rate = r.rate, rollout_next_step = r.next_step,
       rollout_window_at = r.window_at, rollout_window_count = r.window_count,
       rollout_log = CASE WHEN r.upto > r.old
                          THEN (j.rollout_log || jsonb_build_array(jsonb_build_array(r.window_at, r.upto))) #-
                               CASE WHEN jsonb_array_length(j.rollout_log) >= 1000 THEN '{0}'::text[]
                                    ELSE '{}'::text[] END
                          ELSE j.rollout_log END
  FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::int[], $6::timestamptz[], $7::int[])
       AS r(job_id, old, upto, rate, next_step, window_at, window_count)
 WHERE j.job_id = r.job_id AND j.released_upto = r.old AND j.status = 'IN_PROGRESS'
RETURNING j.job_id, r.upto - r.old AS reached, j.target_device_id
)
SELECT x.job_id, x.reached,
       CASE WHEN x.reached > 0 THEN iotcloud.notify_job(x.job_id, x.target_device_id) END AS notified
  FROM released x
"""

# Metrics (db/functions/070_metrics.sql): jobs by status across tenants, read when Prometheus scrapes.
JOBS_BY_STATUS = "SELECT status, n FROM iotcloud.jobs_by_status()"
JOBS_TICK_BACKLOG = "SELECT jobs_to_sweep, overdue_executions FROM iotcloud.jobs_tick_backlog($1)"

-- The function bodies below are superseded: the live functions are in db/functions/ (081 drops these).
-- In-progress timeout (AWS IoT Jobs' inProgressTimeoutInMinutes): a job may say how long a device has,
-- from claiming an execution (QUEUED -> IN_PROGRESS), to finish it. The claim stamps the execution's
-- timeout_at; the worker's jobs tick times out IN_PROGRESS executions past it (IN_PROGRESS -> TIMED_OUT,
-- {"reason": "in_progress_timeout"}), so a device that dies mid-job no longer keeps its job running forever.
-- Progress updates do not move the deadline; past it, the device's updates are refused.

ALTER TABLE jobs ADD COLUMN in_progress_timeout_minutes integer
    CONSTRAINT jobs_in_progress_timeout_check CHECK (in_progress_timeout_minutes BETWEEN 1 AND 10080);
ALTER TABLE job_executions ADD COLUMN timeout_at timestamptz;
-- Only running executions with a deadline are indexed: the worker reads exactly the overdue ones.
CREATE INDEX job_executions_timeout_idx ON job_executions (timeout_at)
    WHERE status = 'IN_PROGRESS' AND timeout_at IS NOT NULL;

-- The device's move, as in 078_device_calls.sql, now also stamping timeout_at on a claim and refusing any
-- move of an IN_PROGRESS execution past its deadline (the tick times it out; until then the device is
-- told why with a 409), so the outcome does not depend on when the tick runs.
CREATE OR REPLACE FUNCTION iot_device_transition(p_token_hash text, p_seen_interval integer, p_job_id text,
                                      p_target text, p_details jsonb, p_allowed text[], p_now timestamptz,
                                      p_expected bigint, p_terminal boolean)
RETURNS TABLE (job_id text, device_id text, status text, status_details jsonb, execution_number bigint,
               queued_at timestamptz, started_at timestamptz, last_updated_at timestamptz,
               from_status text, job_completed boolean)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    s record;
    r record;
BEGIN
    SELECT * INTO s FROM iot_device_session(p_token_hash, p_seen_interval);
    WITH cur AS (
        SELECT e.tenant_id, e.job_id, e.device_id, e.status AS from_status, e.execution_number AS from_number,
               e.timeout_at, j.expires_at, j.in_progress_timeout_minutes
          FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
         WHERE e.tenant_id = s.tenant_id AND e.job_id = p_job_id AND e.device_id = s.device_id
           FOR UPDATE OF e
    ), upd AS (
        UPDATE job_executions e
           SET status = p_target,
               status_details = COALESCE(p_details, e.status_details),
               execution_number = e.execution_number + 1,
               started_at = CASE WHEN p_target = 'IN_PROGRESS' THEN COALESCE(e.started_at, p_now)
                                 ELSE e.started_at END,
               last_updated_at = p_now,
               timeout_at = CASE WHEN cur.from_status = 'QUEUED' AND p_target = 'IN_PROGRESS'
                                 THEN p_now + make_interval(mins => cur.in_progress_timeout_minutes)
                                 ELSE e.timeout_at END
          FROM cur
         WHERE e.tenant_id = cur.tenant_id AND e.job_id = cur.job_id AND e.device_id = cur.device_id
           AND cur.from_status = ANY(p_allowed)
           AND (p_expected IS NULL OR cur.from_number = p_expected)
           AND NOT (cur.from_status = 'QUEUED' AND p_target = 'IN_PROGRESS'
                    AND cur.expires_at IS NOT NULL AND cur.expires_at <= p_now)
           AND NOT (cur.from_status = 'IN_PROGRESS' AND cur.timeout_at IS NOT NULL AND cur.timeout_at <= p_now)
        RETURNING e.job_id, e.device_id, e.status, e.status_details, e.execution_number, e.queued_at,
                  e.started_at, e.last_updated_at, e.shard, cur.from_status
    ), cnt AS (
        UPDATE job_counters c
           SET queued      = c.queued      - (u.from_status = 'QUEUED')::int      + (u.status = 'QUEUED')::int,
               in_progress = c.in_progress - (u.from_status = 'IN_PROGRESS')::int + (u.status = 'IN_PROGRESS')::int,
               succeeded   = c.succeeded   - (u.from_status = 'SUCCEEDED')::int   + (u.status = 'SUCCEEDED')::int,
               failed      = c.failed      - (u.from_status = 'FAILED')::int      + (u.status = 'FAILED')::int,
               timed_out   = c.timed_out   - (u.from_status = 'TIMED_OUT')::int   + (u.status = 'TIMED_OUT')::int,
               rejected    = c.rejected    - (u.from_status = 'REJECTED')::int    + (u.status = 'REJECTED')::int
          FROM upd u
         WHERE c.tenant_id = s.tenant_id AND c.job_id = u.job_id AND c.shard = u.shard
           AND u.from_status <> u.status
        RETURNING c.queued + c.in_progress AS shard_active
    ), ev AS (
        INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor,
                                          execution_number, status_details, at)
        SELECT s.tenant_id, u.job_id, u.device_id, u.from_status, u.status, 'device', u.execution_number,
               p_details, p_now
          FROM upd u
    )
    SELECT u.*, (SELECT shard_active FROM cnt) AS shard_active INTO r FROM upd u;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    job_completed := false;
    IF p_terminal AND r.shard_active = 0 THEN
        PERFORM 1 FROM jobs j WHERE j.tenant_id = s.tenant_id AND j.job_id = p_job_id FOR UPDATE;
        UPDATE jobs j SET status = 'COMPLETED', completed_at = p_now, updated_at = p_now
         WHERE j.tenant_id = s.tenant_id AND j.job_id = p_job_id AND j.status = 'IN_PROGRESS'
           AND NOT EXISTS (SELECT 1 FROM job_counters c
                            WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id
                              AND c.queued + c.in_progress > 0);
        job_completed := FOUND;
    END IF;
    job_id := r.job_id;
    device_id := r.device_id;
    status := r.status;
    status_details := r.status_details;
    execution_number := r.execution_number;
    queued_at := r.queued_at;
    started_at := r.started_at;
    last_updated_at := r.last_updated_at;
    from_status := r.from_status;
    RETURN NEXT;
END
$fn$;

-- The jobs tick runs as the runtime role, tenant by tenant; this is all it may see across tenants: which
-- tenants have IN_PROGRESS executions past their deadline.
CREATE FUNCTION iot_tenants_with_overdue_executions(p_now timestamptz)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT DISTINCT e.tenant_id FROM job_executions e
     WHERE e.status = 'IN_PROGRESS' AND e.timeout_at IS NOT NULL AND e.timeout_at <= p_now
$fn$;
REVOKE ALL ON FUNCTION iot_tenants_with_overdue_executions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION iot_tenants_with_overdue_executions(timestamptz) TO iotcloud_app;

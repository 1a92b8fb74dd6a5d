-- Superseded: the live functions are in db/functions/ (081 drops these bodies; kept as the history of record).
-- A device's hot calls in one round trip each. A poll or an execution update used to be four:
-- BEGIN, authenticate and set the tenant, the statement, COMMIT. These functions do all of it inside one
-- autocommitted statement, so no transaction stays open (holding a counter row lock) while the app
-- awaits its next round trip.
--
-- They run as the caller (no SECURITY DEFINER): only the token lookup (iot_device_auth) crosses tenants;
-- everything after it runs under row-level security with app.tenant_id set to the device's tenant, the
-- same as the device API's other routes. Which moves are allowed stays in shared/jobs/states.py: the
-- caller passes the allowed source statuses.

-- Authenticates a device by the SHA-256 of its provision token and sets app.tenant_id for the rest of
-- the transaction. An unknown or revoked token raises SQLSTATE 28000 (invalid_authorization_specification).
CREATE FUNCTION iot_device_session(p_token_hash text, p_seen_interval integer)
RETURNS TABLE (tenant_id text, device_id text)
LANGUAGE plpgsql AS $fn$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM iot_device_auth(p_token_hash, p_seen_interval);
    IF NOT FOUND OR a.status <> 'ACTIVE' THEN
        RAISE EXCEPTION 'unknown or revoked provision token'
              USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    PERFORM set_config('app.tenant_id', a.tenant_id, true);
    tenant_id := a.tenant_id;
    device_id := a.device_id;
    RETURN NEXT;
END
$fn$;

-- The device's pending executions: IN_PROGRESS first, then oldest first; jobs past expires_at left out.
CREATE FUNCTION iot_device_pending(p_token_hash text, p_seen_interval integer, p_now timestamptz,
                                   p_limit integer)
RETURNS TABLE (job_id text, status text, status_details jsonb, execution_number bigint,
               queued_at timestamptz, started_at timestamptz, last_updated_at timestamptz,
               document_type text, document_params jsonb, expires_at timestamptz)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM iot_device_session(p_token_hash, p_seen_interval);
    RETURN QUERY
    SELECT e.job_id, e.status, e.status_details, e.execution_number, e.queued_at,
           e.started_at, e.last_updated_at, j.document_type, j.document_params, j.expires_at
      FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
     WHERE e.tenant_id = s.tenant_id AND e.device_id = s.device_id AND e.status IN ('QUEUED', 'IN_PROGRESS')
       AND (j.expires_at IS NULL OR j.expires_at > p_now)
     ORDER BY (e.status = 'IN_PROGRESS') DESC, e.queued_at, e.job_id
     LIMIT p_limit;
END
$fn$;

-- One guarded move of the device's own execution: lock it, move it if its status is one of p_allowed
-- (and, when given, its execution_number is p_expected), count it in its counter shard, record the event.
-- A claim (QUEUED -> IN_PROGRESS) of a job past expires_at is not allowed. No row back: not allowed (the
-- caller reads the current state to say why).
--
-- Completion: whoever brings a counter shard to zero active executions with a terminal move locks the
-- job row and then, in a new statement (a fresh snapshot under READ COMMITTED), completes the job if no
-- shard has active executions left. The last such transaction to take the lock sees every other one
-- committed, so the job completes exactly once.
CREATE FUNCTION iot_device_transition(p_token_hash text, p_seen_interval integer, p_job_id text,
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
               j.expires_at
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
               last_updated_at = p_now
          FROM cur
         WHERE e.tenant_id = cur.tenant_id AND e.job_id = cur.job_id AND e.device_id = cur.device_id
           AND cur.from_status = ANY(p_allowed)
           AND (p_expected IS NULL OR cur.from_number = p_expected)
           AND NOT (cur.from_status = 'QUEUED' AND p_target = 'IN_PROGRESS'
                    AND cur.expires_at IS NOT NULL AND cur.expires_at <= p_now)
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

REVOKE ALL ON FUNCTION iot_device_session(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION iot_device_pending(text, integer, timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION iot_device_transition(text, integer, text, text, jsonb, text[], timestamptz, bigint,
                                             boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION iot_device_session(text, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iot_device_pending(text, integer, timestamptz, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iot_device_transition(text, integer, text, text, jsonb, text[], timestamptz, bigint,
                                                boolean) TO iotcloud_app;

-- The one guarded move primitive. Every change of an execution's status goes through
-- iotcloud.move_executions: a device's update, an operator's cancel, the worker's expiry and in-progress
-- timeout. It takes a set of requests (job, device, target status, details, expected execution number),
-- made by one actor at one time, and in the caller's transaction (RLS: the caller's tenant):
--   1. locks the executions in key order and decides each request against iotcloud.execution_moves();
--   2. moves the allowed ones (one UPDATE) and records one history row each;
--   3. moves their counts between the job's counter shards (rows locked in key order: no deadlock between
--      concurrent bulk moves);
--   4. completes each job left with no active execution: it locks the job row and checks again in a new
--      statement (a fresh snapshot under READ COMMITTED), so of concurrent last moves the last one to take
--      the lock sees the others committed, and the job completes exactly once.
-- It returns one row per request, in request order: `outcome` is 'moved', 'unchanged' (a repeat of the
-- terminal update already made: nothing changes) or why it was refused, with the execution's state after
-- the call; `job_completed` is true on the one row whose move completed its job.
-- Refusals: not_found, duplicate (the same execution twice in one call), version_mismatch, not_allowed
-- (no such move for this actor from the current status), job_expired / job_canceled / job_completed (a
-- device starting or rejecting work of a job that no longer runs), past_deadline (the in-progress timeout
-- has passed), not_expired / not_overdue / not_canceled (a worker or operator move whose time has not come).

CREATE TYPE iotcloud.move_result AS (
    ord              bigint,
    job_id           text,
    device_id        text,
    outcome          text,
    from_status      text,
    status           text,
    status_details   jsonb,
    execution_number bigint,
    queued_at        timestamptz,
    started_at       timestamptz,
    last_updated_at  timestamptz,
    timeout_at       timestamptz,
    shard            smallint,
    job_completed    boolean
);

CREATE FUNCTION iotcloud.move_executions(p_actor text, p_now timestamptz, p_job_ids text[], p_device_ids text[],
                                    p_targets text[], p_details jsonb[] DEFAULT NULL,
                                    p_expected bigint[] DEFAULT NULL)
RETURNS SETOF iotcloud.move_result
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant    text := current_setting('app.tenant_id');
    v_results   iotcloud.move_result[];
    v_done      text[];
    v_completed text[];
BEGIN
    -- 1 and 2: decide, move, record.
    WITH req AS (
        SELECT r.job_id, r.device_id, r.target, r.details, r.expected, r.ord,
               row_number() OVER (PARTITION BY r.job_id, r.device_id ORDER BY r.ord) AS nth
          FROM unnest(p_job_ids, p_device_ids, p_targets, p_details, p_expected)
               WITH ORDINALITY AS r(job_id, device_id, target, details, expected, ord)
    ), cur AS (
        SELECT e.job_id, e.device_id, e.status, e.status_details, e.execution_number, e.shard, e.timeout_at,
               j.status AS job_status, j.expires_at, j.in_progress_timeout_minutes
          FROM job_executions e
          JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
         WHERE e.tenant_id = v_tenant
           AND (e.job_id, e.device_id) IN (SELECT q.job_id, q.device_id FROM req q)
         ORDER BY e.job_id, e.device_id
           FOR UPDATE OF e
    ), dec AS (
        SELECT q.ord, q.job_id, q.device_id, q.target, q.details, c.status AS cur_status,
               c.in_progress_timeout_minutes,
               CASE
                 WHEN c.job_id IS NULL THEN 'not_found'
                 WHEN q.nth > 1 THEN 'duplicate'
                 WHEN m.guard IS NULL AND c.status = q.target
                      AND NOT EXISTS (SELECT 1 FROM iotcloud.execution_moves() x WHERE x.from_status = q.target)
                      AND (q.details IS NULL OR q.details = c.status_details) THEN 'unchanged'
                 WHEN q.expected IS NOT NULL AND q.expected <> c.execution_number THEN 'version_mismatch'
                 WHEN m.guard IS NULL THEN 'not_allowed'
                 WHEN m.guard = 'job_running' AND c.job_status <> 'IN_PROGRESS' THEN 'job_' || lower(c.job_status)
                 WHEN m.guard = 'job_running' AND c.expires_at <= p_now THEN 'job_expired'
                 WHEN m.guard = 'in_time' AND c.timeout_at <= p_now THEN 'past_deadline'
                 WHEN m.guard = 'job_expired'
                      AND NOT (c.job_status = 'IN_PROGRESS' AND coalesce(c.expires_at <= p_now, false))
                      THEN 'not_expired'
                 WHEN m.guard = 'overdue' AND NOT coalesce(c.timeout_at <= p_now, false) THEN 'not_overdue'
                 WHEN m.guard = 'job_canceled' AND c.job_status <> 'CANCELED' THEN 'not_canceled'
                 ELSE 'moved'
               END AS outcome
          FROM req q
          LEFT JOIN cur c ON c.job_id = q.job_id AND c.device_id = q.device_id
          LEFT JOIN iotcloud.execution_moves() m
                 ON m.actor = p_actor AND m.from_status = c.status AND m.to_status = q.target
    ), upd AS (
        UPDATE job_executions e
           SET status = d.target,
               status_details = coalesce(d.details, e.status_details),
               execution_number = e.execution_number + 1,
               started_at = CASE WHEN d.target = 'IN_PROGRESS' THEN coalesce(e.started_at, p_now)
                                 ELSE e.started_at END,
               timeout_at = CASE WHEN d.cur_status = 'QUEUED' AND d.target = 'IN_PROGRESS'
                                 THEN p_now + make_interval(mins => d.in_progress_timeout_minutes)
                                 ELSE e.timeout_at END,
               last_updated_at = p_now
          FROM dec d
         WHERE d.outcome = 'moved'
           AND e.tenant_id = v_tenant AND e.job_id = d.job_id AND e.device_id = d.device_id
        RETURNING d.ord, e.job_id, e.device_id, d.cur_status AS from_status, e.status, e.status_details,
                  e.execution_number, e.queued_at, e.started_at, e.last_updated_at, e.timeout_at, e.shard,
                  d.details
    ), ev AS (
        INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor,
                                          execution_number, status_details, at)
        SELECT v_tenant, u.job_id, u.device_id, u.from_status, u.status, p_actor, u.execution_number,
               u.details, p_now
          FROM upd u
    )
    SELECT array_agg(ROW(d.ord, d.job_id, d.device_id, d.outcome, coalesce(u.from_status, c.status),
                         coalesce(u.status, c.status), coalesce(u.status_details, c.status_details),
                         coalesce(u.execution_number, c.execution_number),
                         coalesce(u.queued_at, e.queued_at), coalesce(u.started_at, e.started_at),
                         coalesce(u.last_updated_at, e.last_updated_at), coalesce(u.timeout_at, c.timeout_at),
                         coalesce(u.shard, c.shard), false)::iotcloud.move_result ORDER BY d.ord)
      INTO v_results
      FROM dec d
      LEFT JOIN upd u ON u.ord = d.ord
      LEFT JOIN cur c ON c.job_id = d.job_id AND c.device_id = d.device_id
      LEFT JOIN job_executions e
             ON d.outcome <> 'moved' AND e.tenant_id = v_tenant AND e.job_id = d.job_id
            AND e.device_id = d.device_id;

    -- 3: counters, locked in key order, then moved; shards left with no active execution name the jobs
    -- that may now be done.
    PERFORM 1
       FROM job_counters c
      WHERE c.tenant_id = v_tenant
        AND (c.job_id, c.shard) IN (SELECT r.job_id, r.shard FROM unnest(v_results) r
                                     WHERE r.outcome = 'moved' AND r.from_status <> r.status)
      ORDER BY c.job_id, c.shard
        FOR UPDATE;
    WITH d AS (
        SELECT r.job_id, r.shard,
               sum((r.status = 'QUEUED')::int      - (r.from_status = 'QUEUED')::int)      AS queued,
               sum((r.status = 'IN_PROGRESS')::int - (r.from_status = 'IN_PROGRESS')::int) AS in_progress,
               sum((r.status = 'SUCCEEDED')::int   - (r.from_status = 'SUCCEEDED')::int)   AS succeeded,
               sum((r.status = 'FAILED')::int      - (r.from_status = 'FAILED')::int)      AS failed,
               sum((r.status = 'TIMED_OUT')::int   - (r.from_status = 'TIMED_OUT')::int)   AS timed_out,
               sum((r.status = 'REJECTED')::int    - (r.from_status = 'REJECTED')::int)    AS rejected
          FROM unnest(v_results) r
         WHERE r.outcome = 'moved' AND r.from_status <> r.status
         GROUP BY r.job_id, r.shard
    ), cnt AS (
        UPDATE job_counters c
           SET queued = c.queued + d.queued, in_progress = c.in_progress + d.in_progress,
               succeeded = c.succeeded + d.succeeded, failed = c.failed + d.failed,
               timed_out = c.timed_out + d.timed_out, rejected = c.rejected + d.rejected
          FROM d
         WHERE c.tenant_id = v_tenant AND c.job_id = d.job_id AND c.shard = d.shard
        RETURNING c.job_id, c.queued + c.in_progress AS active
    )
    SELECT array_agg(DISTINCT cnt.job_id) INTO v_done FROM cnt WHERE cnt.active = 0;

    -- 4: completion.
    IF v_done IS NOT NULL THEN
        PERFORM 1 FROM jobs j
          WHERE j.tenant_id = v_tenant AND j.job_id = ANY(v_done)
          ORDER BY j.job_id
            FOR UPDATE;
        WITH done AS (
            UPDATE jobs j SET status = 'COMPLETED', completed_at = p_now, updated_at = p_now
             WHERE j.tenant_id = v_tenant AND j.job_id = ANY(v_done) AND j.status = 'IN_PROGRESS'
               AND NOT EXISTS (SELECT 1 FROM job_counters c
                                WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id
                                  AND c.queued + c.in_progress > 0)
            RETURNING j.job_id
        )
        SELECT array_agg(done.job_id) INTO v_completed FROM done;
    END IF;

    RETURN QUERY
    SELECT r.ord, r.job_id, r.device_id, r.outcome, r.from_status, r.status, r.status_details,
           r.execution_number, r.queued_at, r.started_at, r.last_updated_at, r.timeout_at, r.shard,
           coalesce(r.job_id = ANY(v_completed) AND r.outcome = 'moved'
                    AND r.ord = min(r.ord) FILTER (WHERE r.outcome = 'moved') OVER (PARTITION BY r.job_id),
                    false)
      FROM unnest(v_results) r
     ORDER BY r.ord;
END
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.move_executions(text, timestamptz, text[], text[], text[], jsonb[], bigint[])
    TO iotcloud_app;

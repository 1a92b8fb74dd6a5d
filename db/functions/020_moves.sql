-- The one guarded move primitive. Every change of an execution's status goes through
-- iotcloud.move_executions: a device's update, an operator's cancel, the worker's expiry and in-progress
-- timeout. It takes a set of requests (job, device, target status, details, expected execution number),
-- made by one actor at one time, and in the caller's transaction (RLS: the caller's tenant):
--   1. moves the requests that iotcloud.execution_moves() allows, in one guarded UPDATE (the from-status,
--      the guard and the expected execution number are its WHERE, re-checked under each row's lock);
--   2. records one history row per move (and counts the failures among them by minute, for the dashboard:
--      job_failure_minutes), and reads why the others were refused;
--   3. moves their counts between the job's counter shards (rows locked in key order: no deadlock between
--      concurrent bulk moves);
--   4. completes each job left with no active execution (iotcloud.complete_jobs; a snapshot job: a
--      continuous one runs until canceled).
-- It returns one row per request, in request order: `outcome` is 'moved', 'unchanged' (a repeat of the
-- terminal update already made: nothing changes) or why it was refused, with the execution's state after
-- the call; `job_completed` is true on the one row whose move completed its job.
-- Refusals: not_found, duplicate (the same execution twice in one call), version_mismatch, not_allowed
-- (no such move for this actor from the current status), not_forced (canceling IN_PROGRESS work needs
-- p_force), job_expired / job_canceled / job_completed (a device starting or rejecting work of a job that
-- no longer runs), past_deadline (the in-progress timeout
-- has passed), not_expired / not_overdue / not_canceled (a worker or operator move whose time has not come),
-- raced (refused under the row lock, yet allowed by the state committed since: ask again).

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
    job_completed    boolean,
    retry_attempt    smallint
);

-- Whether a move's guard (iotcloud.execution_moves) holds: NULL when it does, else the refusal reason
-- ('not_allowed' for a NULL guard: a move that does not exist).
CREATE FUNCTION iotcloud.guard_refusal(p_guard text, p_job_status text, p_expires_at timestamptz,
                                       p_timeout_at timestamptz, p_now timestamptz, p_force boolean,
                                       p_reached boolean, p_stopped boolean, p_retries_left integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE p_guard
             WHEN 'job_running' THEN
               CASE WHEN p_job_status <> 'IN_PROGRESS' THEN 'job_' || lower(p_job_status)
                    WHEN p_expires_at <= p_now THEN 'job_expired'
                    WHEN NOT p_reached THEN 'not_reached' END
             WHEN 'in_time' THEN CASE WHEN p_timeout_at <= p_now THEN 'past_deadline' END
             WHEN 'job_expired' THEN
               CASE WHEN NOT (p_job_status = 'IN_PROGRESS' AND coalesce(p_expires_at <= p_now, false))
                    THEN 'not_expired' END
             WHEN 'overdue' THEN CASE WHEN NOT coalesce(p_timeout_at <= p_now, false) THEN 'not_overdue' END
             WHEN 'job_canceled' THEN CASE WHEN p_job_status <> 'CANCELED' THEN 'not_canceled' END
             WHEN 'withdrawn' THEN
               CASE WHEN NOT (p_job_status = 'CANCELED' OR (p_stopped AND NOT p_reached)) THEN 'not_canceled' END
             WHEN 'retry' THEN
               CASE WHEN p_job_status <> 'IN_PROGRESS' THEN 'job_' || lower(p_job_status)
                    WHEN p_expires_at <= p_now THEN 'job_expired'
                    WHEN NOT coalesce(p_retries_left > 0, false) THEN 'no_retries_left' END
             WHEN 'requested' THEN NULL
             WHEN 'forced' THEN CASE WHEN NOT coalesce(p_force, false) THEN 'not_forced' END
             ELSE 'not_allowed'  -- no such move: no guard
           END
$fn$;

-- The guard_refusal arguments that come from the rows: whether the job's rollout has reached the
-- execution, whether it stopped, and how many retries the execution has left in its current status.
CREATE FUNCTION iotcloud.reached(p_rank integer, p_released_upto integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT p_rank IS NULL OR p_rank <= p_released_upto
$fn$;

CREATE FUNCTION iotcloud.retries_left(p_status text, p_attempt smallint, p_retry_failed smallint,
                                      p_retry_timed_out smallint)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE p_status WHEN 'FAILED' THEN p_retry_failed WHEN 'TIMED_OUT' THEN p_retry_timed_out END
           - p_attempt
$fn$;

-- What the moves of one call change in one counter row of a job.
CREATE TYPE iotcloud.counter_delta AS (
    job_id      text,
    shard       smallint,
    queued      integer,
    in_progress integer,
    succeeded   integer,
    failed      integer,
    timed_out   integer,
    rejected    integer,
    canceled    integer,
    removed     integer
);

-- Step 4 of a move, and of anything else that may leave a job with no active execution (the deletion of an
-- execution, db/functions/065_lifecycle.sql): each of p_jobs that is IN_PROGRESS with no QUEUED or
-- IN_PROGRESS execution left becomes COMPLETED. It locks the job rows (in key order) and checks again in a
-- new statement (a fresh snapshot under READ COMMITTED), so of concurrent last moves the last one to take
-- the lock sees the others committed, and the job completes exactly once. Returns the jobs it completed.
CREATE FUNCTION iotcloud.complete_jobs(p_now timestamptz, p_jobs text[])
RETURNS text[]
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant text := current_setting('app.tenant_id');
    v_done   text[];
BEGIN
    -- a continuous job runs until canceled: its row is neither locked nor completed here (so device moves
    -- never lock it, and cannot deadlock with a join)
    PERFORM 1 FROM jobs j
      WHERE j.tenant_id = v_tenant AND j.job_id = ANY(p_jobs) AND j.target_selection = 'SNAPSHOT'
      ORDER BY j.job_id
        FOR UPDATE;
    WITH done AS (
        UPDATE jobs j SET status = 'COMPLETED', completed_at = p_now, updated_at = p_now
         WHERE j.tenant_id = v_tenant AND j.job_id = ANY(p_jobs) AND j.status = 'IN_PROGRESS'
           AND j.target_selection = 'SNAPSHOT'
           AND NOT EXISTS (SELECT 1 FROM job_counters c
                            WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id
                              AND c.queued + c.in_progress > 0)
        RETURNING j.job_id
    )
    SELECT array_agg(done.job_id) INTO v_done FROM done;
    RETURN coalesce(v_done, '{}');
END
$fn$;

-- Steps 3 to 4 of a call, whatever way its executions were moved (iotcloud.apply_moves, or
-- iotcloud.apply_range_moves for a sweep's window): the counter deltas (one per job and shard), the executions
-- moved to FAILED or TIMED_OUT with retries left (jobs, devices, details of the retry), in key order.
-- Returns the jobs completed.
CREATE FUNCTION iotcloud.settle_moves(p_now timestamptz, p_deltas iotcloud.counter_delta[], p_retry_jobs text[],
                                      p_retry_devices text[], p_retry_details jsonb[])
RETURNS text[]
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant    text := current_setting('app.tenant_id');
    v_done      text[];
    v_requeued  integer;
BEGIN
    -- 3: counters, locked in key order, then moved; shards left with no active execution name the jobs
    -- that may now be done.
    IF p_deltas IS NOT NULL THEN
        PERFORM 1
           FROM job_counters c
           JOIN unnest(p_deltas) d ON c.job_id = d.job_id AND c.shard = d.shard
          WHERE c.tenant_id = v_tenant
          ORDER BY c.job_id, c.shard
            FOR UPDATE OF c;
        WITH cnt AS (
            UPDATE job_counters c
               SET queued = c.queued + d.queued, in_progress = c.in_progress + d.in_progress,
                   succeeded = c.succeeded + d.succeeded, failed = c.failed + d.failed,
                   timed_out = c.timed_out + d.timed_out, rejected = c.rejected + d.rejected,
                   canceled = c.canceled + d.canceled, removed = c.removed + d.removed
              FROM unnest(p_deltas) d
             WHERE c.tenant_id = v_tenant AND c.job_id = d.job_id AND c.shard = d.shard
            RETURNING c.job_id, c.queued + c.in_progress AS active
        )
        SELECT array_agg(DISTINCT cnt.job_id) INTO v_done FROM cnt WHERE cnt.active = 0;
    END IF;

    -- 3b: retries (retry_config). Executions this call moved to FAILED or TIMED_OUT with retries left go
    -- back to QUEUED, moved by the worker through this same primitive, in this transaction: the job never
    -- looks finished in between. The job rows are locked FOR SHARE first, so an abort (which updates the
    -- job) is ordered against the retry: either the abort waits and then cancels the retried execution, or
    -- the retry, reading the job again after the lock, sees it canceled and leaves the failure as it is.
    IF p_retry_devices IS NOT NULL THEN
        PERFORM 1 FROM jobs j
          WHERE j.tenant_id = v_tenant AND j.job_id = ANY(p_retry_jobs)
          ORDER BY j.job_id
            FOR SHARE;
        SELECT a.moved INTO v_requeued
          FROM iotcloud.apply_moves('worker', p_now, p_retry_jobs, p_retry_devices,
                                    array_fill('QUEUED'::text, ARRAY[cardinality(p_retry_devices)]),
                                    p_retry_details, NULL, false, false, NULL) a;
        -- the retried work is the devices' again: one notification per job (096_notify.sql), naming the
        -- device when the job has one execution retried here
        IF v_requeued > 0 THEN
            PERFORM iotcloud.notify_jobs(array_agg(r.job_id ORDER BY r.job_id),
                                         array_agg(CASE WHEN r.n = 1 THEN r.device_id END ORDER BY r.job_id))
               FROM (SELECT x.job_id, count(*) AS n, min(x.device_id) AS device_id
                       FROM unnest(p_retry_jobs, p_retry_devices) AS x(job_id, device_id)
                      GROUP BY x.job_id) r;
        END IF;
    END IF;

    -- 4: completion.
    RETURN CASE WHEN v_done IS NOT NULL THEN iotcloud.complete_jobs(p_now, v_done) ELSE '{}' END;
END
$fn$;

-- The primitive's body. `p_rows`: build the per-request answers (results), with the refusals explained;
-- without it (bulk moves: sweeps, timeouts), only the count moved and the jobs completed come back.
CREATE FUNCTION iotcloud.apply_moves(p_actor text, p_now timestamptz, p_job_ids text[], p_device_ids text[],
                                     p_targets text[], p_details jsonb[], p_expected bigint[], p_rows boolean,
                                     p_force boolean, p_steps integer[], OUT results iotcloud.move_result[],
                                     OUT moved integer, OUT completed_jobs text[])
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant    text := current_setting('app.tenant_id');
    v_moved     iotcloud.move_result[];
    v_refused   iotcloud.move_result[];
    v_results   iotcloud.move_result[];
    v_deltas    iotcloud.counter_delta[];
    v_retry     text[];
    v_retry_j   text[];
    v_retry_d   jsonb[];
BEGIN
    -- 1 and 2: the guarded move (the row lock is the UPDATE's own: a concurrent change is re-checked
    -- against the same conditions) and its history rows.
    WITH req AS (
        SELECT r.job_id, r.device_id, r.target, r.details, r.expected, r.step, r.ord,
               row_number() OVER (PARTITION BY r.job_id, r.device_id ORDER BY r.ord) AS nth
          FROM unnest(p_job_ids, p_device_ids, p_targets, p_details, p_expected, p_steps)
               WITH ORDINALITY AS r(job_id, device_id, target, details, expected, step, ord)
         ORDER BY r.job_id, r.device_id
    ), upd AS (
        -- o is the version decided on; `e.ctid = o.ctid` makes a row changed meanwhile (re-checked under
        -- its lock) fail the condition instead of being moved from a state nobody decided on.
        UPDATE job_executions e
           SET status = q.target,
               status_details = coalesce(q.details, o.status_details),
               execution_number = o.execution_number + 1,
               -- back to QUEUED (a retry): not started, no deadline, queued again now
               started_at = CASE WHEN q.target = 'QUEUED' THEN NULL
                                 WHEN q.target = 'IN_PROGRESS' THEN coalesce(o.started_at, p_now)
                                 ELSE o.started_at END,
               queued_at = CASE WHEN q.target = 'QUEUED' THEN p_now ELSE o.queued_at END,
               retry_attempt = o.retry_attempt + (q.target = 'QUEUED')::int,
               -- the deadline: the in-progress timeout from the claim, or sooner the step timeout a device
               -- gives (AWS stepTimeoutInMinutes: from now, until the next update that gives one)
               timeout_at = CASE WHEN q.target = 'QUEUED' THEN NULL
                                 WHEN q.target = 'IN_PROGRESS' AND (o.status = 'QUEUED' OR q.step IS NOT NULL) THEN
                                   least(coalesce(o.started_at, p_now)
                                           + make_interval(mins => j.in_progress_timeout_minutes),
                                         p_now + make_interval(mins => q.step))
                                 ELSE o.timeout_at END,
               last_updated_at = p_now
          FROM req q
          JOIN job_executions o ON o.tenant_id = v_tenant AND o.job_id = q.job_id AND o.device_id = q.device_id
          JOIN jobs j ON j.tenant_id = v_tenant AND j.job_id = q.job_id
         WHERE q.nth = 1 AND e.ctid = o.ctid
           AND (q.expected IS NULL OR o.execution_number = q.expected)
           AND j.deleting_at IS NULL  -- a job being deleted is gone (065_lifecycle.sql)
           AND iotcloud.guard_refusal(iotcloud.move_guard(p_actor, o.status, q.target), j.status, j.expires_at,
                                      o.timeout_at, p_now, p_force,
                                      iotcloud.reached(o.rollout_rank, j.released_upto),
                                      j.rollout_stopped_at IS NOT NULL,
                                      iotcloud.retries_left(o.status, o.retry_attempt, j.retry_failed,
                                                            j.retry_timed_out)) IS NULL
        RETURNING q.ord, e.job_id, e.device_id, o.status AS from_status, e.status, e.status_details,
                  e.execution_number, e.queued_at, e.started_at, e.last_updated_at, e.timeout_at, e.shard,
                  q.details, e.retry_attempt,
                  e.status IN ('FAILED', 'TIMED_OUT') AND j.status = 'IN_PROGRESS'
                  AND coalesce(iotcloud.retries_left(e.status, e.retry_attempt, j.retry_failed,
                                                     j.retry_timed_out) > 0, false) AS retryable
    ), ev AS (
        INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor,
                                          execution_number, status_details, at)
        SELECT v_tenant, u.job_id, u.device_id, u.from_status, u.status, p_actor, u.execution_number,
               u.details, p_now
          FROM upd u
    ), fm AS (
        -- the dashboard's failures by minute (job_failure_minutes), in key order
        INSERT INTO job_failure_minutes AS f (tenant_id, job_id, minute, to_status, reason, failures)
        SELECT v_tenant, u.job_id, date_trunc('minute', p_now), u.status,
               coalesce(left(coalesce(u.details ->> 'reason', u.details ->> 'error'), 200), '') AS reason,
               count(*)
          FROM upd u
         WHERE u.status IN ('FAILED', 'TIMED_OUT', 'REJECTED')
         GROUP BY u.job_id, u.status, 5
         ORDER BY u.job_id, u.status, 5
        ON CONFLICT (tenant_id, minute, job_id, to_status, reason)
        DO UPDATE SET failures = f.failures + excluded.failures
    ), d AS (
        SELECT u.job_id, u.shard,
               sum((u.status = 'QUEUED')::int      - (u.from_status = 'QUEUED')::int)::int      AS queued,
               sum((u.status = 'IN_PROGRESS')::int - (u.from_status = 'IN_PROGRESS')::int)::int AS in_progress,
               sum((u.status = 'SUCCEEDED')::int   - (u.from_status = 'SUCCEEDED')::int)::int   AS succeeded,
               sum((u.status = 'FAILED')::int      - (u.from_status = 'FAILED')::int)::int      AS failed,
               sum((u.status = 'TIMED_OUT')::int   - (u.from_status = 'TIMED_OUT')::int)::int   AS timed_out,
               sum((u.status = 'REJECTED')::int    - (u.from_status = 'REJECTED')::int)::int    AS rejected,
               sum((u.status = 'CANCELED')::int    - (u.from_status = 'CANCELED')::int)::int    AS canceled,
               sum((u.status = 'REMOVED')::int     - (u.from_status = 'REMOVED')::int)::int     AS removed
          FROM upd u
         WHERE u.from_status <> u.status
         GROUP BY u.job_id, u.shard
    )
    SELECT (SELECT count(*)::int FROM upd),
           CASE WHEN p_rows THEN
             (SELECT array_agg(ROW(u.ord, u.job_id, u.device_id, 'moved', u.from_status, u.status,
                                   u.status_details, u.execution_number, u.queued_at, u.started_at,
                                   u.last_updated_at, u.timeout_at, u.shard, false, u.retry_attempt)::iotcloud.move_result)
                FROM upd u)
           END,
           (SELECT array_agg(ROW(d.job_id, d.shard, d.queued, d.in_progress, d.succeeded, d.failed, d.timed_out,
                                 d.rejected, d.canceled, d.removed)::iotcloud.counter_delta
                             ORDER BY d.job_id, d.shard)
              FROM d),
           (SELECT array_agg(u.job_id ORDER BY u.job_id, u.device_id) FROM upd u WHERE u.retryable),
           (SELECT array_agg(u.device_id ORDER BY u.job_id, u.device_id) FROM upd u WHERE u.retryable),
           (SELECT array_agg(jsonb_build_object('reason', 'retry', 'retry_attempt', u.retry_attempt + 1,
                                                'after', u.status)
                             ORDER BY u.job_id, u.device_id)
              FROM upd u WHERE u.retryable)
      INTO moved, v_moved, v_deltas, v_retry_j, v_retry, v_retry_d;

    -- Why the others were not moved, read in a new statement (a fresh snapshot: what a concurrent move
    -- committed meanwhile is seen). A request the fresh state would allow lost a race: 'raced'.
    IF p_rows AND moved < cardinality(p_job_ids) THEN
        WITH req AS (
            SELECT r.job_id, r.device_id, r.target, r.details, r.expected, r.ord,
                   row_number() OVER (PARTITION BY r.job_id, r.device_id ORDER BY r.ord) AS nth
              FROM unnest(p_job_ids, p_device_ids, p_targets, p_details, p_expected)
                   WITH ORDINALITY AS r(job_id, device_id, target, details, expected, ord)
        )
        SELECT array_agg(ROW(q.ord, q.job_id, q.device_id,
               CASE
                 WHEN e.job_id IS NULL OR j.deleting_at IS NOT NULL THEN 'not_found'
                 WHEN q.nth > 1 THEN 'duplicate'
                 WHEN m.guard IS NULL AND e.status = q.target
                      AND NOT EXISTS (SELECT 1 FROM iotcloud.execution_moves() x
                                       WHERE x.actor = p_actor AND x.from_status = q.target)
                      AND (q.details IS NULL OR q.details = e.status_details) THEN 'unchanged'
                 WHEN q.expected IS NOT NULL AND q.expected <> e.execution_number THEN 'version_mismatch'
                 WHEN m.guard IS NULL THEN 'not_allowed'
                 ELSE coalesce(iotcloud.guard_refusal(m.guard, j.status, j.expires_at, e.timeout_at, p_now,
                                                      p_force, iotcloud.reached(e.rollout_rank, j.released_upto),
                                                      j.rollout_stopped_at IS NOT NULL,
                                                      iotcloud.retries_left(e.status, e.retry_attempt,
                                                                            j.retry_failed, j.retry_timed_out)),
                               'raced')
               END,
               e.status, e.status, e.status_details, e.execution_number, e.queued_at, e.started_at,
               e.last_updated_at, e.timeout_at, e.shard, false, e.retry_attempt)::iotcloud.move_result)
          INTO v_refused
          FROM req q
          LEFT JOIN job_executions e
                 ON e.tenant_id = v_tenant AND e.job_id = q.job_id AND e.device_id = q.device_id
          LEFT JOIN jobs j ON j.tenant_id = v_tenant AND j.job_id = q.job_id
          LEFT JOIN iotcloud.execution_moves() m
                 ON m.actor = p_actor AND m.from_status = e.status AND m.to_status = q.target
         WHERE q.ord <> ALL (SELECT (x).ord FROM unnest(coalesce(v_moved, '{}')) x);
    END IF;
    v_results := coalesce(v_moved, '{}') || coalesce(v_refused, '{}');

    -- 3 to 4: counters, retries, completion.
    completed_jobs := iotcloud.settle_moves(p_now, v_deltas, v_retry_j, v_retry, v_retry_d);

    IF p_rows THEN
        SELECT array_agg(ROW(r.ord, r.job_id, r.device_id, r.outcome, r.from_status, r.status, r.status_details,
                             r.execution_number, r.queued_at, r.started_at, r.last_updated_at, r.timeout_at,
                             r.shard, r.first_move AND r.job_id = ANY(completed_jobs), r.retry_attempt)::iotcloud.move_result
                         ORDER BY r.ord)
          INTO results
          FROM (SELECT x.*, x.outcome = 'moved' AND x.ord = min(x.ord) FILTER (WHERE x.outcome = 'moved')
                                                            OVER (PARTITION BY x.job_id) AS first_move
                  FROM unnest(v_results) x) r;
    END IF;
END
$fn$;

-- The same primitive for a window of one job's executions that a sweep holds (iotcloud.sweep_queued): every
-- execution of p_job_id with device_id in (p_after, p_upto] whose status is one of p_from moves to p_target,
-- when iotcloud.execution_moves() lets p_actor make that move and its guard holds. The rows are read by a
-- range of the primary key, not looked up one request at a time, and need no dedupe nor per-request answers;
-- everything else is apply_moves': the same guard (iotcloud.move_guard and iotcloud.guard_refusal, re-checked
-- under each row's lock), the same new values, one history row per move, then iotcloud.settle_moves
-- (counters, retries, completion) in the caller's transaction. One UPDATE per from-status, so that each
-- history row and counter delta knows the status it left (PostgreSQL before 18 cannot RETURNING the old row).
CREATE FUNCTION iotcloud.apply_range_moves(p_actor text, p_now timestamptz, p_job_id text, p_after text,
                                           p_upto text, p_from text[], p_target text, p_details jsonb,
                                           p_force boolean, OUT moved integer, OUT completed_jobs text[])
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant    text := current_setting('app.tenant_id');
    v_from      text;
    v_n         integer;
    v_deltas    iotcloud.counter_delta[];
    v_all       iotcloud.counter_delta[] := '{}';
    v_retry     text[];
    v_retry_d   jsonb[];
    v_retries   text[] := '{}';
    v_retries_d jsonb[] := '{}';
BEGIN
    moved := 0;
    FOR v_from IN
        SELECT m.from_status FROM iotcloud.execution_moves() m
         WHERE m.actor = p_actor AND m.to_status = p_target AND m.from_status = ANY(p_from)
         ORDER BY m.from_status DESC  -- QUEUED before IN_PROGRESS
    LOOP
        WITH upd AS (
            UPDATE job_executions e
               SET status = p_target,
                   status_details = coalesce(p_details, e.status_details),
                   execution_number = e.execution_number + 1,
                   started_at = CASE WHEN p_target = 'QUEUED' THEN NULL
                                     WHEN p_target = 'IN_PROGRESS' THEN coalesce(e.started_at, p_now)
                                     ELSE e.started_at END,
                   queued_at = CASE WHEN p_target = 'QUEUED' THEN p_now ELSE e.queued_at END,
                   retry_attempt = e.retry_attempt + (p_target = 'QUEUED')::int,
                   timeout_at = CASE WHEN p_target = 'QUEUED' THEN NULL
                                     WHEN p_target = 'IN_PROGRESS' AND v_from = 'QUEUED' THEN
                                       coalesce(e.started_at, p_now)
                                         + make_interval(mins => j.in_progress_timeout_minutes)
                                     ELSE e.timeout_at END,
                   last_updated_at = p_now
              FROM jobs j
             WHERE e.tenant_id = v_tenant AND e.job_id = p_job_id
               AND e.device_id > p_after AND e.device_id <= p_upto AND e.status = v_from
               AND j.tenant_id = v_tenant AND j.job_id = p_job_id
               AND j.deleting_at IS NULL  -- a job being deleted is gone (065_lifecycle.sql)
               AND iotcloud.guard_refusal(iotcloud.move_guard(p_actor, v_from, p_target), j.status,
                                          j.expires_at, e.timeout_at, p_now, p_force,
                                          iotcloud.reached(e.rollout_rank, j.released_upto),
                                          j.rollout_stopped_at IS NOT NULL,
                                          iotcloud.retries_left(e.status, e.retry_attempt, j.retry_failed,
                                                                j.retry_timed_out)) IS NULL
            RETURNING e.device_id, e.execution_number, e.shard, e.retry_attempt,
                      e.status IN ('FAILED', 'TIMED_OUT') AND j.status = 'IN_PROGRESS'
                      AND coalesce(iotcloud.retries_left(e.status, e.retry_attempt, j.retry_failed,
                                                         j.retry_timed_out) > 0, false) AS retryable
        ), ev AS (
            INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor,
                                              execution_number, status_details, at)
            SELECT v_tenant, p_job_id, u.device_id, v_from, p_target, p_actor, u.execution_number, p_details,
                   p_now
              FROM upd u
        ), d AS (
            SELECT u.shard, count(*)::int AS n FROM upd u WHERE v_from <> p_target GROUP BY u.shard
        )
        SELECT (SELECT count(*)::int FROM upd),
               (SELECT array_agg(ROW(p_job_id, d.shard,
                                     d.n * ((p_target = 'QUEUED')::int      - (v_from = 'QUEUED')::int),
                                     d.n * ((p_target = 'IN_PROGRESS')::int - (v_from = 'IN_PROGRESS')::int),
                                     d.n * ((p_target = 'SUCCEEDED')::int   - (v_from = 'SUCCEEDED')::int),
                                     d.n * ((p_target = 'FAILED')::int      - (v_from = 'FAILED')::int),
                                     d.n * ((p_target = 'TIMED_OUT')::int   - (v_from = 'TIMED_OUT')::int),
                                     d.n * ((p_target = 'REJECTED')::int    - (v_from = 'REJECTED')::int),
                                     d.n * ((p_target = 'CANCELED')::int    - (v_from = 'CANCELED')::int),
                                     d.n * ((p_target = 'REMOVED')::int     - (v_from = 'REMOVED')::int)
                                    )::iotcloud.counter_delta)
                  FROM d),
               (SELECT array_agg(u.device_id ORDER BY u.device_id) FROM upd u WHERE u.retryable),
               (SELECT array_agg(jsonb_build_object('reason', 'retry', 'retry_attempt', u.retry_attempt + 1,
                                                    'after', p_target)
                                 ORDER BY u.device_id)
                  FROM upd u WHERE u.retryable)
          INTO v_n, v_deltas, v_retry, v_retry_d;
        moved := moved + v_n;
        v_all := v_all || coalesce(v_deltas, '{}');
        v_retries := v_retries || coalesce(v_retry, '{}');
        v_retries_d := v_retries_d || coalesce(v_retry_d, '{}');
    END LOOP;

    -- the dashboard's failures by minute (job_failure_minutes), as apply_moves counts them
    IF moved > 0 AND p_target IN ('FAILED', 'TIMED_OUT', 'REJECTED') THEN
        INSERT INTO job_failure_minutes AS f (tenant_id, job_id, minute, to_status, reason, failures)
        VALUES (v_tenant, p_job_id, date_trunc('minute', p_now), p_target,
                coalesce(left(coalesce(p_details ->> 'reason', p_details ->> 'error'), 200), ''), moved)
        ON CONFLICT (tenant_id, minute, job_id, to_status, reason)
        DO UPDATE SET failures = f.failures + excluded.failures;
    END IF;

    -- one delta per shard (a shard may have been moved from in several passes), in key order
    SELECT array_agg(ROW(p_job_id, x.shard, x.queued, x.in_progress, x.succeeded, x.failed, x.timed_out,
                         x.rejected, x.canceled, x.removed)::iotcloud.counter_delta ORDER BY x.shard)
      INTO v_deltas
      FROM (SELECT a.shard, sum(a.queued)::int AS queued, sum(a.in_progress)::int AS in_progress,
                   sum(a.succeeded)::int AS succeeded, sum(a.failed)::int AS failed,
                   sum(a.timed_out)::int AS timed_out, sum(a.rejected)::int AS rejected,
                   sum(a.canceled)::int AS canceled, sum(a.removed)::int AS removed
              FROM unnest(v_all) a
             GROUP BY a.shard) x;
    completed_jobs := iotcloud.settle_moves(p_now, v_deltas,
                                            CASE WHEN cardinality(v_retries) > 0
                                                 THEN array_fill(p_job_id, ARRAY[cardinality(v_retries)]) END,
                                            nullif(v_retries, '{}'), nullif(v_retries_d, '{}'));
END
$fn$;

-- The primitive: one row per request, in request order. `p_force`: the call is forced (the 'forced' guard).
CREATE FUNCTION iotcloud.move_executions(p_actor text, p_now timestamptz, p_job_ids text[],
                                         p_device_ids text[], p_targets text[], p_details jsonb[] DEFAULT NULL,
                                         p_expected bigint[] DEFAULT NULL, p_force boolean DEFAULT false,
                                         p_steps integer[] DEFAULT NULL)
RETURNS SETOF iotcloud.move_result
LANGUAGE sql AS $fn$
    SELECT r.*
      FROM iotcloud.apply_moves(p_actor, p_now, p_job_ids, p_device_ids, p_targets, p_details, p_expected,
                                true, p_force, p_steps) a,
           unnest(a.results) r
     ORDER BY r.ord
$fn$;

-- The same for bulk moves that need no answer per request: how many moved, which jobs they completed.
CREATE FUNCTION iotcloud.move_executions_counted(p_actor text, p_now timestamptz, p_job_ids text[],
                                                 p_device_ids text[], p_targets text[], p_details jsonb[],
                                                 p_force boolean DEFAULT false)
RETURNS TABLE (moved integer, completed_jobs text[])
LANGUAGE sql AS $fn$
    SELECT a.moved, a.completed_jobs
      FROM iotcloud.apply_moves(p_actor, p_now, p_job_ids, p_device_ids, p_targets, p_details, NULL, false,
                                p_force, NULL) a
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.complete_jobs(timestamptz, text[]) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.guard_refusal(text, text, timestamptz, timestamptz, timestamptz, boolean,
                                                 boolean, boolean, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.reached(integer, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.retries_left(text, smallint, smallint, smallint) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.settle_moves(timestamptz, iotcloud.counter_delta[], text[], text[], jsonb[])
    TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.apply_range_moves(text, timestamptz, text, text, text, text[], text, jsonb,
                                                     boolean) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.apply_moves(text, timestamptz, text[], text[], text[], jsonb[], bigint[],
                                               boolean, boolean, integer[]) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.move_executions(text, timestamptz, text[], text[], text[], jsonb[], bigint[],
                                                   boolean, integer[]) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.move_executions_counted(text, timestamptz, text[], text[], text[], jsonb[],
                                                           boolean) TO iotcloud_app;

-- Rollouts: the worker's rollout tick (shared/jobs/rollout.py), tenant by tenant under RLS. Starting a
-- scheduled job, aborting one whose failures met a criterion and applying a schedule's end are one statement
-- each for all the tenant's jobs; reaching devices is one UPDATE of the job rows (released_upto, see
-- 084_rollouts.sql), whatever the rate; a stopped rollout cancels what it never reached in batches, through
-- the move primitive.

-- What the rollout tick may see across tenants: which tenants have rollout work. SECURITY DEFINER, narrow.
CREATE FUNCTION iotcloud.tenants_with_rollout_work()
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT DISTINCT j.tenant_id FROM jobs j
     WHERE j.status = 'SCHEDULED'
        OR (j.status = 'IN_PROGRESS' AND (j.released_upto < j.ranked OR j.abort_config IS NOT NULL
                                          OR (j.end_at IS NOT NULL AND j.end_applied_at IS NULL)))
$fn$;

-- Scheduled jobs whose start has come begin. Those that reach devices by starting (released_upto > 0) send
-- their notification (096_notify.sql); a job whose devices wait for the rollout's release is notified by the
-- release, which the same tick decides next.
CREATE FUNCTION iotcloud.start_scheduled(p_now timestamptz)
RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
    v_jobs    text[];
    v_reached text[];
    v_devices text[];
BEGIN
    WITH s AS (
        UPDATE jobs j SET status = 'IN_PROGRESS', updated_at = p_now
         WHERE j.tenant_id = current_setting('app.tenant_id') AND j.status = 'SCHEDULED' AND j.start_at <= p_now
           AND j.deleting_at IS NULL
        RETURNING j.job_id, j.target_device_id, j.released_upto > 0 AS reached
    )
    SELECT array_agg(s.job_id ORDER BY s.job_id),
           array_agg(s.job_id ORDER BY s.job_id) FILTER (WHERE s.reached),
           array_agg(s.target_device_id ORDER BY s.job_id) FILTER (WHERE s.reached)
      INTO v_jobs, v_reached, v_devices
      FROM s;
    PERFORM iotcloud.notify_jobs(v_reached, v_devices);
    RETURN QUERY SELECT x FROM unnest(coalesce(v_jobs, '{}'::text[])) AS x;
END
$fn$;

-- A job's executions that count for abort criteria: those that ran to an end of their own (succeeded,
-- failed, rejected, timed out); canceled and removed ones do not count. Failures by type.
CREATE FUNCTION iotcloud.abort_failures(p_type text, p_failed integer, p_rejected integer, p_timed_out integer)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE p_type WHEN 'FAILED' THEN p_failed WHEN 'REJECTED' THEN p_rejected
                       WHEN 'TIMED_OUT' THEN p_timed_out ELSE p_failed + p_rejected + p_timed_out END
$fn$;

-- Running jobs whose abort criteria are met are canceled (AWS abortConfig, action CANCEL): the first
-- criterion met, in the order given, names the reason code (ABORTED_<FAILURE_TYPE>) and is kept in
-- abort_state with the counts seen. A criterion is met when at least min_number_of_executed_things
-- executions have run to an end and failures of its type are at least threshold_percentage of them.
-- The jobs' QUEUED executions are then canceled by the cancel's sweep (cancel_mode 'cancel').
CREATE FUNCTION iotcloud.abort_jobs(p_now timestamptz)
RETURNS TABLE (job_id text, abort_state jsonb)
LANGUAGE sql AS $fn$
    WITH c AS (
        SELECT j.job_id, j.abort_config,
               coalesce(sum(k.succeeded), 0)::int AS succeeded, coalesce(sum(k.failed), 0)::int AS failed,
               coalesce(sum(k.rejected), 0)::int AS rejected, coalesce(sum(k.timed_out), 0)::int AS timed_out
          FROM jobs j
          JOIN job_counters k ON k.tenant_id = j.tenant_id AND k.job_id = j.job_id
         WHERE j.tenant_id = current_setting('app.tenant_id') AND j.status = 'IN_PROGRESS'
           AND j.abort_config IS NOT NULL AND j.deleting_at IS NULL
         GROUP BY j.job_id, j.abort_config
    ), hit AS (
        SELECT DISTINCT ON (c.job_id) c.job_id, cr.criterion, cr.n,
               iotcloud.abort_failures(cr.criterion ->> 'failure_type', c.failed, c.rejected, c.timed_out)
                   AS failures,
               c.succeeded + c.failed + c.rejected + c.timed_out AS executed
          FROM c
         CROSS JOIN LATERAL jsonb_array_elements(c.abort_config -> 'criteria_list') WITH ORDINALITY
               AS cr(criterion, n)
         WHERE c.succeeded + c.failed + c.rejected + c.timed_out
                   >= greatest((cr.criterion ->> 'min_number_of_executed_things')::int, 1)
           AND iotcloud.abort_failures(cr.criterion ->> 'failure_type', c.failed, c.rejected, c.timed_out) * 100.0
                   >= (cr.criterion ->> 'threshold_percentage')::numeric
                      * (c.succeeded + c.failed + c.rejected + c.timed_out)
         ORDER BY c.job_id, cr.n
    )
    UPDATE jobs j
       SET status = 'CANCELED', canceled_at = p_now, updated_at = p_now, cancel_mode = 'cancel',
           cancel_reason_code = 'ABORTED_' || (h.criterion ->> 'failure_type'),
           cancel_reason = format('aborted: %s of %s executed devices %s (%s %%), criterion: at least %s %% of at '
                                  'least %s', h.failures, h.executed,
                                  CASE h.criterion ->> 'failure_type' WHEN 'ALL' THEN 'failed, were rejected or timed out'
                                       WHEN 'FAILED' THEN 'failed' WHEN 'REJECTED' THEN 'were rejected'
                                       ELSE 'timed out' END,
                                  round(h.failures * 100.0 / h.executed, 1),
                                  h.criterion ->> 'threshold_percentage',
                                  h.criterion ->> 'min_number_of_executed_things'),
           abort_state = jsonb_build_object('criterion', h.criterion, 'failures', h.failures,
                                            'executed', h.executed, 'at', p_now)
      FROM hit h
     WHERE j.tenant_id = current_setting('app.tenant_id') AND j.job_id = h.job_id AND j.status = 'IN_PROGRESS'
    RETURNING j.job_id, j.abort_state
$fn$;

-- Schedules whose end has come: CANCEL and FORCE_CANCEL cancel the job (its sweep follows, as for
-- CancelJob with or without force); STOP_ROLLOUT stops reaching devices (the executions never reached are
-- canceled by iotcloud.stop_rollout, which then marks the end applied) and the job goes on until what was
-- reached is done.
CREATE FUNCTION iotcloud.end_schedules(p_now timestamptz)
RETURNS TABLE (job_id text, end_behavior text)
LANGUAGE sql AS $fn$
    UPDATE jobs j
       SET status = CASE WHEN j.end_behavior IN ('CANCEL', 'FORCE_CANCEL') THEN 'CANCELED' ELSE j.status END,
           canceled_at = CASE WHEN j.end_behavior IN ('CANCEL', 'FORCE_CANCEL') THEN p_now END,
           cancel_mode = CASE j.end_behavior WHEN 'CANCEL' THEN 'cancel' WHEN 'FORCE_CANCEL' THEN 'force' END,
           cancel_reason_code = CASE WHEN j.end_behavior IN ('CANCEL', 'FORCE_CANCEL') THEN 'SCHEDULE_ENDED' END,
           cancel_reason = CASE WHEN j.end_behavior IN ('CANCEL', 'FORCE_CANCEL')
                                THEN 'the schedule''s end_time passed' END,
           end_applied_at = CASE WHEN j.end_behavior IN ('CANCEL', 'FORCE_CANCEL') THEN p_now END,
           rollout_stopped_at = p_now,
           updated_at = p_now
     WHERE j.tenant_id = current_setting('app.tenant_id') AND j.status = 'IN_PROGRESS'
       AND j.end_at <= p_now AND j.end_applied_at IS NULL AND j.rollout_stopped_at IS NULL
       AND j.deleting_at IS NULL
    RETURNING j.job_id, j.end_behavior
$fn$;

-- Jobs whose rollout stopped with executions never reached: what iotcloud.stop_rollout still has to do.
CREATE FUNCTION iotcloud.rollouts_stopping()
RETURNS SETOF text
LANGUAGE sql STABLE AS $fn$
    SELECT j.job_id FROM jobs j
     WHERE j.tenant_id = current_setting('app.tenant_id') AND j.status = 'IN_PROGRESS'
       AND j.rollout_stopped_at IS NOT NULL AND j.end_applied_at IS NULL
     ORDER BY j.job_id
$fn$;

-- One batch of a stopped rollout: a window of the job's executions in key order (keyset, after p_after), of
-- which the QUEUED ones it never reached (rank above released_upto) become CANCELED ({"reason":
-- "rollout_stopped"}) through the move primitive (the worker's 'withdrawn' move). The window reaching the
-- job's end marks the job's end applied.
CREATE FUNCTION iotcloud.stop_rollout(p_now timestamptz, p_job_id text, p_after text, p_limit integer)
RETURNS TABLE (last_device_id text, moved integer, done boolean, completed boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant  text := current_setting('app.tenant_id');
    v_upto    integer;
    v_ids     text[];
    v_scanned integer;
    v_n       integer;
BEGIN
    SELECT j.released_upto INTO v_upto FROM jobs j WHERE j.tenant_id = v_tenant AND j.job_id = p_job_id;
    SELECT array_agg(w.device_id ORDER BY w.device_id) FILTER (WHERE w.status = 'QUEUED' AND w.rollout_rank > v_upto),
           max(w.device_id), count(*)
      INTO v_ids, last_device_id, v_scanned
      FROM (SELECT e.device_id, e.status, e.rollout_rank FROM job_executions e
             WHERE e.tenant_id = v_tenant AND e.job_id = p_job_id AND e.device_id > p_after
             ORDER BY e.device_id
             LIMIT p_limit) w;
    v_n := coalesce(cardinality(v_ids), 0);
    moved := 0;
    completed := false;
    IF v_n > 0 THEN
        SELECT m.moved, cardinality(m.completed_jobs) > 0 INTO moved, completed
          FROM iotcloud.move_executions_counted('worker', p_now, array_fill(p_job_id, ARRAY[v_n]), v_ids,
                                                array_fill('CANCELED'::text, ARRAY[v_n]),
                                                array_fill('{"reason": "rollout_stopped"}'::jsonb, ARRAY[v_n])) m;
    END IF;
    done := v_scanned < p_limit;
    IF done THEN
        UPDATE jobs j SET end_applied_at = p_now
         WHERE j.tenant_id = v_tenant AND j.job_id = p_job_id AND j.end_applied_at IS NULL;
    END IF;
    RETURN NEXT;
END
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.tenants_with_rollout_work() TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.start_scheduled(timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.abort_failures(text, integer, integer, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.abort_jobs(timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.end_schedules(timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.rollouts_stopping() TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.stop_rollout(timestamptz, text, text, integer) TO iotcloud_app;

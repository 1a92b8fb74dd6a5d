-- Bulk moves in bounded batches, each in its caller's transaction (RLS: the caller's tenant).

-- Which jobs still have QUEUED executions to sweep: running jobs past expires_at (-> TIMED_OUT) and
-- canceled jobs (-> REJECTED or CANCELED, by the job's cancel_mode; a forced cancel also cancels IN_PROGRESS
-- work). Each job is swept once; queued_swept_at marks it done.
CREATE FUNCTION iotcloud.jobs_to_sweep(p_now timestamptz, p_limit integer)
RETURNS SETOF text
LANGUAGE sql STABLE AS $fn$
    SELECT j.job_id FROM jobs j
     WHERE j.tenant_id = current_setting('app.tenant_id') AND j.queued_swept_at IS NULL
       AND (j.status = 'CANCELED' OR (j.status = 'IN_PROGRESS' AND j.expires_at IS NOT NULL))
       AND (j.status = 'CANCELED' OR j.expires_at <= p_now)
     ORDER BY j.expires_at NULLS FIRST, j.job_id
     LIMIT p_limit
$fn$;

-- One batch of a job's sweep: a window of its executions in key order (keyset, after p_after), of which the
-- QUEUED ones move (iotcloud.apply_range_moves: the move primitive over a range of keys). The window reaching
-- the job's end marks the job swept.
-- The target follows the job: expired -> TIMED_OUT; canceled by DELETE (cancel_mode 'reject') -> REJECTED;
-- by CancelJob ('cancel') -> CANCELED; with force ('force') the window's IN_PROGRESS executions are canceled
-- too, locked first (in key order) so that none a device updates meanwhile is left behind.
CREATE FUNCTION iotcloud.sweep_queued(p_actor text, p_now timestamptz, p_job_id text, p_after text,
                                 p_limit integer)
RETURNS TABLE (last_device_id text, scanned integer, moved integer, swept boolean, completed boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant  text := current_setting('app.tenant_id');
    j         record;
    v_target  text;
    v_details jsonb;
    v_force   boolean := false;
BEGIN
    SELECT x.status, x.expires_at, x.cancel_reason, x.cancel_reason_code, x.cancel_mode, x.queued_swept_at
      INTO j
      FROM jobs x WHERE x.tenant_id = v_tenant AND x.job_id = p_job_id;
    IF NOT FOUND OR j.queued_swept_at IS NOT NULL THEN
        RETURN QUERY SELECT NULL::text, 0, 0, true, false;
        RETURN;
    END IF;
    IF j.status = 'CANCELED' AND j.cancel_mode = 'reject' THEN
        v_target := 'REJECTED';
        v_details := jsonb_strip_nulls(jsonb_build_object('reason', 'job_canceled', 'message', j.cancel_reason));
    ELSIF j.status = 'CANCELED' THEN
        v_target := 'CANCELED';
        v_force := j.cancel_mode = 'force';
        v_details := jsonb_strip_nulls(jsonb_build_object('reason', 'job_canceled', 'force', nullif(v_force, false),
                                                          'reason_code', j.cancel_reason_code,
                                                          'message', j.cancel_reason));
    ELSIF j.status = 'IN_PROGRESS' AND j.expires_at <= p_now THEN
        v_target := 'TIMED_OUT';
        v_details := '{"reason": "job_expired"}';
    ELSE  -- a running job not yet expired: nothing to sweep; a completed one has nothing QUEUED left
        RETURN QUERY SELECT NULL::text, 0, 0, j.status = 'COMPLETED', false;
        RETURN;
    END IF;

    -- the window: p_limit executions in key order after p_after (the primary key, read in order)
    SELECT max(w.device_id), count(*)
      INTO last_device_id, scanned
      FROM (SELECT e.device_id FROM job_executions e
             WHERE e.tenant_id = v_tenant AND e.job_id = p_job_id AND e.device_id > p_after
             ORDER BY e.device_id
             LIMIT p_limit) w;
    moved := 0;
    completed := false;
    IF scanned > 0 THEN
        IF v_force THEN
            -- the window's active executions, locked in key order before either status is moved (the
            -- QUEUED ones, then the IN_PROGRESS ones), so no device's update interleaves with the two
            PERFORM 1 FROM job_executions e
              WHERE e.tenant_id = v_tenant AND e.job_id = p_job_id AND e.device_id > p_after
                AND e.device_id <= last_device_id AND e.status IN ('QUEUED', 'IN_PROGRESS')
              ORDER BY e.device_id
                FOR UPDATE;
        END IF;
        SELECT m.moved, cardinality(m.completed_jobs) > 0
          INTO moved, completed
          FROM iotcloud.apply_range_moves(p_actor, p_now, p_job_id, p_after, last_device_id,
                                          CASE WHEN v_force THEN ARRAY['QUEUED', 'IN_PROGRESS']
                                               ELSE ARRAY['QUEUED'] END,
                                          v_target, v_details, v_force) m;
    END IF;
    swept := scanned < p_limit;
    IF swept THEN
        UPDATE jobs x SET queued_swept_at = p_now WHERE x.tenant_id = v_tenant AND x.job_id = p_job_id;
    END IF;
    RETURN NEXT;
END
$fn$;

-- One batch of the in-progress timeout: IN_PROGRESS executions past their deadline become TIMED_OUT, the
-- reason saying which deadline passed (the job's in-progress timeout, or the step timeout the device gave).
-- Rows a device is updating right now are skipped (the device's move or the next batch decides them).
CREATE FUNCTION iotcloud.time_out_overdue(p_now timestamptz, p_limit integer)
RETURNS TABLE (moved integer, completed_jobs text[])
LANGUAGE plpgsql AS $fn$
DECLARE
    v_jobs    text[];
    v_devices text[];
    v_details jsonb[];
    v_n       integer;
BEGIN
    SELECT array_agg(w.job_id), array_agg(w.device_id),
           array_agg(jsonb_build_object('reason',
                     CASE WHEN w.started_at + make_interval(mins => j.in_progress_timeout_minutes) <= p_now
                          THEN 'in_progress_timeout' ELSE 'step_timeout' END))
      INTO v_jobs, v_devices, v_details
      FROM (SELECT e.job_id, e.device_id, e.started_at FROM job_executions e
             WHERE e.tenant_id = current_setting('app.tenant_id') AND e.status = 'IN_PROGRESS'
               AND e.timeout_at <= p_now
             ORDER BY e.timeout_at
             LIMIT p_limit
               FOR UPDATE OF e SKIP LOCKED) w
      JOIN jobs j ON j.tenant_id = current_setting('app.tenant_id') AND j.job_id = w.job_id;
    v_n := coalesce(cardinality(v_jobs), 0);
    IF v_n = 0 THEN
        RETURN QUERY SELECT 0, '{}'::text[];
        RETURN;
    END IF;
    RETURN QUERY
    SELECT m.moved, m.completed_jobs
      FROM iotcloud.move_executions_counted('worker', p_now, v_jobs, v_devices,
                                            array_fill('TIMED_OUT'::text, ARRAY[v_n]), v_details) m;
END
$fn$;

-- What the jobs tick may see across tenants: which tenants have work for it. SECURITY DEFINER, narrow.
CREATE FUNCTION iotcloud.tenants_to_sweep(p_now timestamptz)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT DISTINCT j.tenant_id FROM jobs j
     WHERE j.queued_swept_at IS NULL
       AND (j.status = 'CANCELED' OR (j.status = 'IN_PROGRESS' AND j.expires_at IS NOT NULL))
       AND (j.status = 'CANCELED' OR j.expires_at <= p_now)
$fn$;

CREATE FUNCTION iotcloud.tenants_with_overdue_executions(p_now timestamptz)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT DISTINCT e.tenant_id FROM job_executions e
     WHERE e.status = 'IN_PROGRESS' AND e.timeout_at IS NOT NULL AND e.timeout_at <= p_now
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.jobs_to_sweep(timestamptz, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.sweep_queued(text, timestamptz, text, text, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.time_out_overdue(timestamptz, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.tenants_to_sweep(timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.tenants_with_overdue_executions(timestamptz) TO iotcloud_app;

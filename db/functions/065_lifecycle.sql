-- Deleting jobs and executions (AWS DeleteJob, DeleteJobExecution), in the caller's transaction (RLS: the
-- caller's tenant). A deletion decrements the counters of what it deleted, in the same statement chain, so
-- the counters keep equal to the real counts; the history of a deleted execution is deleted with it.
--
-- Concurrency: a DELETE takes each execution's row lock, as a move's UPDATE does. A move committed first is
-- deleted with its new status (the DELETE re-reads the row under its lock, and counts what it returns); a
-- move after the delete finds no row ('not_found'). A job being deleted (deleting_at set) allows no move at
-- all (iotcloud.apply_moves). Locks are taken in the order the moves take them: executions, counters (in key
-- order), the job row.

-- The history of executions that no longer exist, of the caller's tenant: the only way the runtime role
-- deletes history (job_execution_events is append-only to it). SECURITY DEFINER and narrow: it deletes
-- nothing of another tenant (app.tenant_id must be set; its rows only) nor of an execution that still exists.
CREATE FUNCTION iotcloud.delete_history(p_job_id text, p_device_ids text[])
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    -- Device by device (LATERAL subqueries that the planner cannot flatten: each is an index probe on the
    -- full key), the rows then deleted by their tuple ids, so the cost follows the batch, never the job's
    -- size, whatever the statistics say.
    WITH gone AS (
        DELETE FROM job_execution_events ev
         WHERE ev.ctid = ANY (ARRAY(
               SELECT h.ctid
                 FROM unnest(p_device_ids) AS d(device_id)
                 LEFT JOIN LATERAL (SELECT 1 AS live FROM job_executions e
                                     WHERE e.tenant_id = current_setting('app.tenant_id') AND e.job_id = p_job_id
                                       AND e.device_id = d.device_id
                                     LIMIT 1) l ON true
                 CROSS JOIN LATERAL (SELECT x.ctid FROM job_execution_events x
                                      WHERE x.tenant_id = current_setting('app.tenant_id') AND x.job_id = p_job_id
                                        AND x.device_id = d.device_id
                                     OFFSET 0) h
                WHERE l.live IS NULL))  -- (tuple ids of this tenant's and job's rows only: see x)
        RETURNING 1
    )
    SELECT count(*)::int FROM gone
$fn$;

-- Takes deleted executions' counts (status, shard) off the job's counter rows (locked in key order) and
-- off its execution_count.
CREATE FUNCTION iotcloud.uncount(p_job_id text, p_statuses text[], p_shards smallint[], p_now timestamptz)
RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant text := current_setting('app.tenant_id');
BEGIN
    PERFORM 1 FROM job_counters c
      WHERE c.tenant_id = v_tenant AND c.job_id = p_job_id AND c.shard = ANY(p_shards)
      ORDER BY c.shard
        FOR UPDATE;
    UPDATE job_counters c
       SET queued = c.queued - d.queued, in_progress = c.in_progress - d.in_progress,
           succeeded = c.succeeded - d.succeeded, failed = c.failed - d.failed,
           timed_out = c.timed_out - d.timed_out, rejected = c.rejected - d.rejected,
           canceled = c.canceled - d.canceled, removed = c.removed - d.removed
      FROM (SELECT x.shard,
                   count(*) FILTER (WHERE x.status = 'QUEUED')::int      AS queued,
                   count(*) FILTER (WHERE x.status = 'IN_PROGRESS')::int AS in_progress,
                   count(*) FILTER (WHERE x.status = 'SUCCEEDED')::int   AS succeeded,
                   count(*) FILTER (WHERE x.status = 'FAILED')::int      AS failed,
                   count(*) FILTER (WHERE x.status = 'TIMED_OUT')::int   AS timed_out,
                   count(*) FILTER (WHERE x.status = 'REJECTED')::int    AS rejected,
                   count(*) FILTER (WHERE x.status = 'CANCELED')::int    AS canceled,
                   count(*) FILTER (WHERE x.status = 'REMOVED')::int     AS removed
              FROM unnest(p_statuses, p_shards) AS x(status, shard)
             GROUP BY x.shard) d
     WHERE c.tenant_id = v_tenant AND c.job_id = p_job_id AND c.shard = d.shard;
    UPDATE jobs j SET execution_count = j.execution_count - cardinality(p_statuses), updated_at = p_now
     WHERE j.tenant_id = v_tenant AND j.job_id = p_job_id;
END
$fn$;

-- AWS DeleteJobExecution: deletes one execution of a job not being deleted, with its history. A QUEUED or
-- IN_PROGRESS execution needs p_force; p_expected, when given, must be its execution_number. Deleting the last
-- active execution of a running job completes the job (iotcloud.complete_jobs). One row: `outcome` 'deleted'
-- (the state is the execution's as deleted), else why not (not_found, version_mismatch, not_forced, raced)
-- with the current state.
CREATE FUNCTION iotcloud.delete_execution(p_now timestamptz, p_job_id text, p_device_id text,
                                          p_force boolean, p_expected bigint)
RETURNS TABLE (outcome text, job_id text, device_id text, status text, status_details jsonb,
               execution_number bigint, queued_at timestamptz, started_at timestamptz,
               last_updated_at timestamptz, job_completed boolean, retry_attempt smallint)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    v_tenant text := current_setting('app.tenant_id');
    d        record;
    v_done   boolean := false;
BEGIN
    DELETE FROM job_executions e
     USING jobs j
     WHERE e.tenant_id = v_tenant AND e.job_id = p_job_id AND e.device_id = p_device_id
       AND j.tenant_id = e.tenant_id AND j.job_id = e.job_id AND j.deleting_at IS NULL
       AND (p_expected IS NULL OR e.execution_number = p_expected)
       AND (p_force OR e.status NOT IN ('QUEUED', 'IN_PROGRESS'))
    RETURNING e.job_id, e.device_id, e.status, e.status_details, e.execution_number, e.queued_at,
              e.started_at, e.last_updated_at, e.shard, e.retry_attempt
      INTO d;
    IF FOUND THEN
        PERFORM iotcloud.delete_history(p_job_id, ARRAY[p_device_id]);
        PERFORM iotcloud.uncount(p_job_id, ARRAY[d.status], ARRAY[d.shard], p_now);
        IF d.status IN ('QUEUED', 'IN_PROGRESS') THEN
            v_done := cardinality(iotcloud.complete_jobs(p_now, ARRAY[p_job_id])) > 0;
        END IF;
        RETURN QUERY
        SELECT 'deleted'::text, d.job_id, d.device_id, d.status, d.status_details, d.execution_number,
               d.queued_at, d.started_at, d.last_updated_at, v_done, d.retry_attempt;
        RETURN;
    END IF;
    -- why not, read in a new statement (what a concurrent change committed meanwhile is seen)
    RETURN QUERY
    SELECT CASE WHEN e.job_id IS NULL OR j.deleting_at IS NOT NULL THEN 'not_found'
                WHEN p_expected IS NOT NULL AND e.execution_number <> p_expected THEN 'version_mismatch'
                WHEN NOT p_force AND e.status IN ('QUEUED', 'IN_PROGRESS') THEN 'not_forced'
                ELSE 'raced' END,
           p_job_id, p_device_id, e.status, e.status_details, e.execution_number, e.queued_at, e.started_at,
           e.last_updated_at, false, e.retry_attempt
      FROM (SELECT 1) one
      LEFT JOIN job_executions e ON e.tenant_id = v_tenant AND e.job_id = p_job_id AND e.device_id = p_device_id
      LEFT JOIN jobs j ON j.tenant_id = v_tenant AND j.job_id = p_job_id;
END
$fn$;

-- One batch of AWS DeleteJob, for a job marked deleting: the next p_limit executions in key order after
-- p_after (keyset), with their history and their counts. The batch that finds no execution left deletes
-- the job's counters and the job. `deleted`: executions this batch deleted; `done`: the job is gone.
CREATE FUNCTION iotcloud.delete_job_batch(p_now timestamptz, p_job_id text, p_after text, p_limit integer)
RETURNS TABLE (last_device_id text, deleted integer, done boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant   text := current_setting('app.tenant_id');
    v_window   text[];
    v_devices  text[];
    v_statuses text[];
    v_shards   smallint[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = v_tenant AND j.job_id = p_job_id
                                          AND j.deleting_at IS NOT NULL) THEN
        RETURN QUERY SELECT NULL::text, 0, NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = v_tenant
                                                                            AND j.job_id = p_job_id);
        RETURN;
    END IF;
    SELECT array_agg(w.device_id ORDER BY w.device_id) INTO v_window
      FROM (SELECT e.device_id FROM job_executions e
             WHERE e.tenant_id = v_tenant AND e.job_id = p_job_id AND e.device_id > p_after
             ORDER BY e.device_id
             LIMIT p_limit) w;
    deleted := 0;
    IF v_window IS NOT NULL THEN
        last_device_id := v_window[cardinality(v_window)];
        -- the window as a key range: an index range on any plan (an `= ANY(array)` filter over the job's
        -- rows would cost the job's size times the batch's)
        WITH gone AS (
            DELETE FROM job_executions e
             WHERE e.tenant_id = v_tenant AND e.job_id = p_job_id
               AND e.device_id > p_after AND e.device_id <= last_device_id
            RETURNING e.device_id, e.status, e.shard
        )
        SELECT array_agg(g.device_id), array_agg(g.status), array_agg(g.shard)
          INTO v_devices, v_statuses, v_shards
          FROM gone g;
        IF v_devices IS NOT NULL THEN
            PERFORM iotcloud.delete_history(p_job_id, v_devices);
            PERFORM iotcloud.uncount(p_job_id, v_statuses, v_shards, p_now);
            deleted := cardinality(v_devices);
        END IF;
    END IF;
    done := false;
    IF coalesce(cardinality(v_window), 0) < p_limit
       AND NOT EXISTS (SELECT 1 FROM job_executions e WHERE e.tenant_id = v_tenant AND e.job_id = p_job_id) THEN
        DELETE FROM job_counters c WHERE c.tenant_id = v_tenant AND c.job_id = p_job_id;
        DELETE FROM jobs j WHERE j.tenant_id = v_tenant AND j.job_id = p_job_id;
        done := true;
    END IF;
    RETURN NEXT;
END
$fn$;

-- Which jobs of the caller's tenant are being deleted (for the jobs tick to finish their deletion).
CREATE FUNCTION iotcloud.jobs_deleting(p_limit integer)
RETURNS SETOF text
LANGUAGE sql STABLE AS $fn$
    SELECT j.job_id FROM jobs j
     WHERE j.tenant_id = current_setting('app.tenant_id') AND j.deleting_at IS NOT NULL
     ORDER BY j.deleting_at, j.job_id
     LIMIT p_limit
$fn$;

-- What the jobs tick may see across tenants: which tenants have jobs being deleted. SECURITY DEFINER, narrow.
CREATE FUNCTION iotcloud.tenants_deleting_jobs()
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT DISTINCT j.tenant_id FROM jobs j WHERE j.deleting_at IS NOT NULL
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.delete_history(text, text[]) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.uncount(text, text[], smallint[], timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.delete_execution(timestamptz, text, text, boolean, bigint) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.delete_job_batch(timestamptz, text, text, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.jobs_deleting(integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.tenants_deleting_jobs() TO iotcloud_app;

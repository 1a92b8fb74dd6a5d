-- Retention: the worker's purge of old history and old finished jobs, in bounded batches, each its own
-- short transaction (the caller's statement). The runtime role has no DELETE on these tables: it calls these
-- SECURITY DEFINER functions, which cross tenants but purge only what a tenant's retention makes due: a job
-- that is finished for good (nothing can move any more) and finished before p_now minus the retention.
--
-- A job's history is purged whole (never the events of a job that may still move), executions by key
-- (device_id, event_id) order: while it runs, an execution's chain may have lost its start (jobs.history_purge
-- = 'purging'); the invariant checker accepts a truncated start for those jobs only. A finished job is purged
-- history first, then its executions batch by batch with its counters and execution_count decremented in the
-- same statement (every committed state keeps counters = real counts), then its counters and row.

-- When a job finished for good, or NULL: COMPLETED jobs at completed_at (every execution was terminal);
-- CANCELED jobs once their sweep is done and no execution is active, at the last move of any execution.
CREATE FUNCTION iotcloud.job_finished_at(p_tenant text, p_job text)
RETURNS timestamptz
LANGUAGE sql STABLE AS $fn$
    SELECT CASE
        WHEN j.status = 'COMPLETED' THEN j.completed_at
        WHEN j.status = 'CANCELED' AND j.queued_swept_at IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM job_counters c
                              WHERE c.tenant_id = p_tenant AND c.job_id = p_job
                                AND (c.queued > 0 OR c.in_progress > 0))
        THEN greatest(j.canceled_at, (SELECT max(e.last_updated_at) FROM job_executions e
                                       WHERE e.tenant_id = p_tenant AND e.job_id = p_job))
    END
      FROM jobs j WHERE j.tenant_id = p_tenant AND j.job_id = p_job
$fn$;

-- Whether the tenant's retention makes this job's history ('history') or the job itself ('job') due at p_now.
CREATE FUNCTION iotcloud.retention_due(p_tenant text, p_job text, p_kind text, p_now timestamptz)
RETURNS boolean
LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(iotcloud.job_finished_at(p_tenant, p_job)
                    < p_now - make_interval(days => CASE p_kind WHEN 'job' THEN t.finished_job_retention_days
                                                                 ELSE t.history_retention_days END), false)
      FROM tenants t WHERE t.tenant_id = p_tenant
$fn$;

-- The work due at p_now, oldest first: ('job', ...) for finished jobs past the tenant's job retention,
-- ('history', ...) for finished jobs past its history retention whose history is not purged yet.
CREATE FUNCTION iotcloud.retention_work(p_now timestamptz, p_limit integer)
RETURNS TABLE (tenant_id text, job_id text, kind text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT w.tenant_id, w.job_id, w.kind FROM (
        SELECT j.tenant_id, j.job_id,
               CASE WHEN t.finished_job_retention_days IS NOT NULL
                         AND iotcloud.retention_due(j.tenant_id, j.job_id, 'job', p_now) THEN 'job'
                    WHEN t.history_retention_days IS NOT NULL AND j.history_purge IS DISTINCT FROM 'purged'
                         AND iotcloud.retention_due(j.tenant_id, j.job_id, 'history', p_now) THEN 'history'
               END AS kind,
               coalesce(j.completed_at, j.canceled_at) AS finished
          FROM tenants t
          JOIN jobs j ON j.tenant_id = t.tenant_id AND j.status <> 'IN_PROGRESS'
               AND coalesce(j.completed_at, j.canceled_at)
                   < p_now - make_interval(days => least(coalesce(t.history_retention_days, 36500),
                                                         coalesce(t.finished_job_retention_days, 36500)))
               -- a job whose history is purged is work again only where finished jobs go too
               AND (t.finished_job_retention_days IS NOT NULL OR j.history_purge IS DISTINCT FROM 'purged')
         WHERE t.history_retention_days IS NOT NULL OR t.finished_job_retention_days IS NOT NULL
    ) w
     WHERE w.kind IS NOT NULL
     ORDER BY w.finished, w.tenant_id, w.job_id
     LIMIT p_limit
$fn$;

-- One batch of a due job's history: up to p_limit events after (p_after_device, p_after_event) in key order.
-- Marks the job 'purging' (first batch) and 'purged' (a batch that finds fewer than p_limit).
CREATE FUNCTION iotcloud.purge_history(p_tenant text, p_job text, p_now timestamptz,
                                       p_after_device text, p_after_event bigint, p_limit integer)
RETURNS TABLE (deleted integer, last_device_id text, last_event_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    IF NOT (iotcloud.retention_due(p_tenant, p_job, 'history', p_now)
            OR iotcloud.retention_due(p_tenant, p_job, 'job', p_now)) THEN
        RETURN QUERY SELECT 0, NULL::text, NULL::bigint;
        RETURN;
    END IF;
    UPDATE jobs j SET history_purge = 'purging', history_purged_at = p_now
     WHERE j.tenant_id = p_tenant AND j.job_id = p_job AND j.history_purge IS NULL;
    -- the window is a key range (its last key found by an index-only scan), deleted by that range: one plan,
    -- an index range scan, whatever the planner believes of the table's size
    SELECT e.device_id, e.event_id INTO last_device_id, last_event_id
      FROM job_execution_events e
     WHERE e.tenant_id = p_tenant AND e.job_id = p_job
       AND (e.device_id, e.event_id) > (p_after_device, p_after_event)
     ORDER BY e.device_id, e.event_id
    OFFSET p_limit - 1 LIMIT 1;
    IF last_device_id IS NULL THEN  -- fewer than p_limit left: the rest
        DELETE FROM job_execution_events e
         WHERE e.tenant_id = p_tenant AND e.job_id = p_job
           AND (e.device_id, e.event_id) > (p_after_device, p_after_event);
    ELSE
        DELETE FROM job_execution_events e
         WHERE e.tenant_id = p_tenant AND e.job_id = p_job
           AND (e.device_id, e.event_id) > (p_after_device, p_after_event)
           AND (e.device_id, e.event_id) <= (last_device_id, last_event_id);
    END IF;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    IF deleted < p_limit THEN
        UPDATE jobs j SET history_purge = 'purged'
         WHERE j.tenant_id = p_tenant AND j.job_id = p_job AND j.history_purge = 'purging';
    END IF;
    RETURN NEXT;
END
$fn$;

-- One batch of a due job's executions (its history purged first): up to p_limit after p_after_device, with
-- the job's counters and execution_count decremented by what was deleted, in the same statement.
CREATE FUNCTION iotcloud.purge_executions(p_tenant text, p_job text, p_now timestamptz, p_after_device text,
                                          p_limit integer)
RETURNS TABLE (deleted integer, last_device_id text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    IF NOT iotcloud.retention_due(p_tenant, p_job, 'job', p_now)
       OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = p_tenant AND j.job_id = p_job
                                             AND j.history_purge = 'purged') THEN
        RETURN QUERY SELECT 0, NULL::text;
        RETURN;
    END IF;
    SELECT e.device_id INTO last_device_id
      FROM job_executions e
     WHERE e.tenant_id = p_tenant AND e.job_id = p_job AND e.device_id > p_after_device
     ORDER BY e.device_id
    OFFSET p_limit - 1 LIMIT 1;
    WITH d AS (  -- a key range, as in purge_history; fewer than p_limit left: the rest
        DELETE FROM job_executions e
         WHERE e.tenant_id = p_tenant AND e.job_id = p_job AND e.device_id > p_after_device
           AND e.device_id <= coalesce(last_device_id, e.device_id)
        RETURNING e.device_id, e.shard, e.status
    ), by_shard AS (
        SELECT d.shard,
               count(*) FILTER (WHERE d.status = 'QUEUED') AS queued,
               count(*) FILTER (WHERE d.status = 'IN_PROGRESS') AS in_progress,
               count(*) FILTER (WHERE d.status = 'SUCCEEDED') AS succeeded,
               count(*) FILTER (WHERE d.status = 'FAILED') AS failed,
               count(*) FILTER (WHERE d.status = 'TIMED_OUT') AS timed_out,
               count(*) FILTER (WHERE d.status = 'REJECTED') AS rejected,
               count(*) FILTER (WHERE d.status = 'CANCELED') AS canceled,
               count(*) FILTER (WHERE d.status = 'REMOVED') AS removed
          FROM d GROUP BY d.shard
    ), counted AS (
        UPDATE job_counters c
           SET queued = c.queued - s.queued, in_progress = c.in_progress - s.in_progress,
               succeeded = c.succeeded - s.succeeded, failed = c.failed - s.failed,
               timed_out = c.timed_out - s.timed_out, rejected = c.rejected - s.rejected,
               canceled = c.canceled - s.canceled, removed = c.removed - s.removed
          FROM by_shard s
         WHERE c.tenant_id = p_tenant AND c.job_id = p_job AND c.shard = s.shard
        RETURNING 1
    ), job AS (
        UPDATE jobs j SET execution_count = j.execution_count - (SELECT count(*) FROM d)
         WHERE j.tenant_id = p_tenant AND j.job_id = p_job
        RETURNING 1
    )
    SELECT (SELECT count(*)::int FROM d)
      INTO deleted
      FROM (SELECT count(*) FROM counted) c1, (SELECT count(*) FROM job) j1;
    RETURN NEXT;
END
$fn$;

-- The end of a due job's purge: once it has no execution left, its counter rows and the job itself.
CREATE FUNCTION iotcloud.purge_job(p_tenant text, p_job text, p_now timestamptz)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    IF NOT iotcloud.retention_due(p_tenant, p_job, 'job', p_now)
       OR EXISTS (SELECT 1 FROM job_executions e WHERE e.tenant_id = p_tenant AND e.job_id = p_job)
       OR EXISTS (SELECT 1 FROM job_execution_events e WHERE e.tenant_id = p_tenant AND e.job_id = p_job) THEN
        RETURN false;
    END IF;
    DELETE FROM job_counters c WHERE c.tenant_id = p_tenant AND c.job_id = p_job;
    DELETE FROM jobs j WHERE j.tenant_id = p_tenant AND j.job_id = p_job;
    RETURN true;
END
$fn$;

-- The dashboard's failure counts by minute (job_failure_minutes) older than p_before, of every tenant: they
-- serve only the last hour. At most p_limit rows, oldest first; returns how many were deleted.
CREATE FUNCTION iotcloud.purge_failure_minutes(p_before timestamptz, p_limit integer)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    WITH old AS (
        SELECT m.tenant_id, m.minute, m.job_id, m.to_status, m.reason FROM job_failure_minutes m
         WHERE m.minute < p_before
         ORDER BY m.minute
         LIMIT p_limit
    ), gone AS (
        DELETE FROM job_failure_minutes m USING old o
         WHERE (m.tenant_id, m.minute, m.job_id, m.to_status, m.reason)
             = (o.tenant_id, o.minute, o.job_id, o.to_status, o.reason)
        RETURNING 1
    )
    SELECT count(*)::int FROM gone
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.retention_work(timestamptz, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.purge_failure_minutes(timestamptz, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.purge_history(text, text, timestamptz, text, bigint, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.purge_executions(text, text, timestamptz, text, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.purge_job(text, text, timestamptz) TO iotcloud_app;

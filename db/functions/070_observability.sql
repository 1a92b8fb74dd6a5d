-- What the metrics endpoint and /ready read across tenants (shared/observability/exporter.py,
-- shared/web/readiness.py): jobs by status, one grouped count over the jobs table. SECURITY DEFINER, narrow.
CREATE FUNCTION iotcloud.jobs_by_status()
RETURNS TABLE (status text, n bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT j.status, count(*) FROM jobs j GROUP BY j.status
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.jobs_by_status() TO iotcloud_app;

-- What the jobs tick left due at the end of its run (iotcloud_tick_backlog): jobs still to sweep (as
-- iotcloud.jobs_to_sweep, all tenants) and IN_PROGRESS executions past their timeout (partial index).
CREATE FUNCTION iotcloud.jobs_tick_backlog(p_now timestamptz)
RETURNS TABLE (jobs_to_sweep bigint, overdue_executions bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT (SELECT count(*) FROM jobs j
             WHERE j.queued_swept_at IS NULL
               AND (j.status = 'CANCELED' OR (j.status = 'IN_PROGRESS' AND j.expires_at IS NOT NULL))
               AND (j.status = 'CANCELED' OR j.expires_at <= p_now)),
           (SELECT count(*) FROM job_executions e
             WHERE e.status = 'IN_PROGRESS' AND e.timeout_at IS NOT NULL AND e.timeout_at <= p_now)
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.jobs_tick_backlog(timestamptz) TO iotcloud_app;

-- /ready: whether the migration `p_id` (the newest the process's code knows) is applied. The runtime role
-- cannot read yoyo's table; this says yes or no and nothing else.
CREATE FUNCTION iotcloud.migration_applied(p_id text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT EXISTS (SELECT 1 FROM _yoyo_migration m WHERE m.migration_id = p_id)
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.migration_applied(text) TO iotcloud_app;

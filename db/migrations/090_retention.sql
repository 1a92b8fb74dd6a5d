-- Retention (docs/operations.md "Retention"): per tenant, how long the history of a finished job and a
-- finished job itself are kept (NULL: forever). The worker's retention tick purges through the SECURITY
-- DEFINER functions of db/functions/090_retention.sql; the runtime role gets no DELETE on these tables.

ALTER TABLE tenants
    ADD COLUMN history_retention_days integer
        CONSTRAINT tenants_history_retention_days_check CHECK (history_retention_days BETWEEN 1 AND 36500),
    ADD COLUMN finished_job_retention_days integer
        CONSTRAINT tenants_finished_job_retention_days_check CHECK (finished_job_retention_days BETWEEN 1 AND 36500);

-- A job's history purge: 'purging' from its first batch (events of its executions may be gone from the
-- start of their chain), 'purged' when none is left. The invariant checker reads it.
ALTER TABLE jobs
    ADD COLUMN history_purge text CONSTRAINT jobs_history_purge_check CHECK (history_purge IN ('purging', 'purged')),
    ADD COLUMN history_purged_at timestamptz,
    ADD CONSTRAINT jobs_history_purged_at_check CHECK ((history_purge IS NULL) = (history_purged_at IS NULL)),
    ADD CONSTRAINT jobs_history_purge_finished_check CHECK (history_purge IS NULL OR status <> 'IN_PROGRESS');

-- Finished jobs of a tenant by the time they finished: the retention tick's candidates, oldest first.
CREATE INDEX jobs_finished_idx ON jobs (tenant_id, (coalesce(completed_at, canceled_at)))
    WHERE status <> 'IN_PROGRESS';

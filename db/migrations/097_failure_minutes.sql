-- The dashboard's failures of the last hour, counted as they happen: one row per tenant, minute, job, status
-- and reason, upserted by the move primitive (db/functions/020_moves.sql) in the statement that records the
-- failures in the history. It replaces 096's partial index on the history, which every timed-out, failed or
-- rejected move paid an index entry for (an expiry sweep of a million executions: a million entries);
-- the rollup costs a sweep batch one row. Rows older than a day are purged by the retention tick.
CREATE TABLE job_failure_minutes (
    tenant_id  text NOT NULL,
    job_id     text NOT NULL,
    minute     timestamptz NOT NULL CHECK (minute = date_trunc('minute', minute)),
    to_status  text NOT NULL CHECK (to_status IN ('FAILED', 'TIMED_OUT', 'REJECTED')),
    reason     text NOT NULL DEFAULT '',  -- status_details' reason (else error), at most 200 characters; '': none
    failures   integer NOT NULL CHECK (failures > 0),
    PRIMARY KEY (tenant_id, minute, job_id, to_status, reason),
    FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, job_id) ON DELETE CASCADE
);
CREATE INDEX job_failure_minutes_job_idx ON job_failure_minutes (tenant_id, job_id);

ALTER TABLE job_failure_minutes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON job_failure_minutes
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON job_failure_minutes TO iotcloud_app;

-- the last hour's failures, from the history (what the index served until now)
INSERT INTO job_failure_minutes (tenant_id, job_id, minute, to_status, reason, failures)
SELECT e.tenant_id, e.job_id, date_trunc('minute', e.at), e.to_status,
       coalesce(left(coalesce(e.status_details ->> 'reason', e.status_details ->> 'error'), 200), ''), count(*)
  FROM job_execution_events e
  JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE e.to_status IN ('FAILED', 'TIMED_OUT', 'REJECTED') AND e.at > now() - interval '1 hour'
 GROUP BY 1, 2, 3, 4, 5;

DROP INDEX job_execution_events_failures_idx;

-- The live SQL functions move to db/functions/*.sql, re-applied by every `iotcloud migrate` into the
-- schema `iotcloud` (see shared/infra/migrations.py). The bodies that 001, 077, 078 and 080 created in `public`
-- are dropped here, so exactly one copy of each function exists: the one in db/functions.
DROP FUNCTION IF EXISTS iot_device_transition(text, integer, text, text, jsonb, text[], timestamptz, bigint,
                                              boolean);
DROP FUNCTION IF EXISTS iot_device_pending(text, integer, timestamptz, integer);
DROP FUNCTION IF EXISTS iot_device_session(text, integer);
DROP FUNCTION IF EXISTS iot_device_auth(text, integer);
DROP FUNCTION IF EXISTS iot_login_lookup(text);
DROP FUNCTION IF EXISTS iot_tenants_with_expired_jobs(timestamptz);
DROP FUNCTION IF EXISTS iot_tenants_with_overdue_executions(timestamptz);

-- A job's QUEUED executions are swept once: when it expires (QUEUED -> TIMED_OUT) or is canceled
-- (QUEUED -> REJECTED). queued_swept_at says the sweep has reached the job's last execution; the jobs tick
-- only looks at jobs without it, so its cost does not grow with the number of jobs already swept.
ALTER TABLE jobs ADD COLUMN queued_swept_at timestamptz;
UPDATE jobs SET queued_swept_at = coalesce(canceled_at, completed_at, updated_at)
 WHERE status <> 'IN_PROGRESS';
DROP INDEX jobs_expiry_idx;
CREATE INDEX jobs_sweep_idx ON jobs (tenant_id, expires_at)
    WHERE queued_swept_at IS NULL AND (status = 'CANCELED' OR (status = 'IN_PROGRESS' AND expires_at IS NOT NULL));

-- Timestamps follow statuses.
ALTER TABLE jobs
    ADD CONSTRAINT jobs_completed_at_check CHECK ((completed_at IS NOT NULL) = (status = 'COMPLETED')),
    ADD CONSTRAINT jobs_canceled_at_check CHECK ((canceled_at IS NOT NULL) = (status = 'CANCELED')),
    ADD CONSTRAINT jobs_swept_check CHECK (queued_swept_at IS NULL OR status <> 'IN_PROGRESS'
                                           OR expires_at <= queued_swept_at);
ALTER TABLE job_executions
    ADD CONSTRAINT job_executions_started_at_check CHECK (CASE status
        WHEN 'QUEUED' THEN started_at IS NULL
        WHEN 'IN_PROGRESS' THEN started_at IS NOT NULL
        WHEN 'SUCCEEDED' THEN started_at IS NOT NULL
        WHEN 'FAILED' THEN started_at IS NOT NULL
        ELSE true END),
    ADD CONSTRAINT job_executions_timeout_at_check CHECK (timeout_at IS NULL OR started_at IS NOT NULL);

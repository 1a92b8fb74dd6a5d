-- IoT Jobs (AWS IoT Jobs semantics): jobs, one execution per targeted device, per-status counters
-- kept exact in the transaction of every transition, and an append-only execution history.
-- Status values mirror shared/jobs/states.py (tests/integration/test_schema.py and test_state_machine.py check it).

CREATE TABLE jobs (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    job_id           text NOT NULL CHECK (job_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    document_type    text NOT NULL CHECK (char_length(document_type) BETWEEN 1 AND 100),
    document_params  jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(document_params) = 'object'),
    target_device_id text,
    target_group_id  text,
    target_all       boolean NOT NULL DEFAULT false,
    status           text NOT NULL DEFAULT 'IN_PROGRESS'
                     CONSTRAINT jobs_status_check CHECK (status IN ('IN_PROGRESS', 'COMPLETED', 'CANCELED')),
    execution_count  integer NOT NULL DEFAULT 0 CHECK (execution_count >= 0),
    expires_at       timestamptz,
    created_by       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    canceled_at      timestamptz,
    cancel_reason    text,
    PRIMARY KEY (tenant_id, job_id),
    CONSTRAINT jobs_one_target CHECK (
        (target_device_id IS NOT NULL)::int + (target_group_id IS NOT NULL)::int + target_all::int = 1)
);
CREATE INDEX jobs_tenant_created_idx ON jobs (tenant_id, created_at DESC, job_id);
CREATE INDEX jobs_tenant_status_created_idx ON jobs (tenant_id, status, created_at DESC, job_id);
-- TTL: the expiry tick finds running jobs past expires_at through this index.
CREATE INDEX jobs_expiry_idx ON jobs (expires_at) WHERE status = 'IN_PROGRESS' AND expires_at IS NOT NULL;

CREATE TABLE job_executions (
    tenant_id        text NOT NULL,
    job_id           text NOT NULL,
    device_id        text NOT NULL,
    status           text NOT NULL DEFAULT 'QUEUED'
                     CONSTRAINT job_executions_status_check CHECK (status IN (
                        'QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED')),
    status_details   jsonb CHECK (status_details IS NULL OR jsonb_typeof(status_details) = 'object'),
    -- starts at 1 and grows with every accepted update: devices pass it back as
    -- expected_execution_number for optimistic concurrency.
    execution_number bigint NOT NULL DEFAULT 1 CHECK (execution_number >= 1),
    -- which counter row of the job this execution counts in (spreads hot-row contention).
    shard            smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 63),
    queued_at        timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    last_updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, job_id, device_id),
    FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, job_id) ON DELETE CASCADE
);
-- A device's pending work: only its QUEUED and IN_PROGRESS executions are indexed.
CREATE INDEX job_executions_device_active_idx ON job_executions (tenant_id, device_id, queued_at)
    WHERE status IN ('QUEUED', 'IN_PROGRESS');
CREATE INDEX job_executions_device_idx ON job_executions (tenant_id, device_id, queued_at DESC);

-- Per-status execution counts of a job, split over a few rows (shards) so that devices of one job
-- do not all queue on one row lock. A job's counts are the sums of its rows.
CREATE TABLE job_counters (
    tenant_id   text NOT NULL,
    job_id      text NOT NULL,
    shard       smallint NOT NULL CHECK (shard BETWEEN 0 AND 63),
    queued      integer NOT NULL DEFAULT 0 CHECK (queued >= 0),
    in_progress integer NOT NULL DEFAULT 0 CHECK (in_progress >= 0),
    succeeded   integer NOT NULL DEFAULT 0 CHECK (succeeded >= 0),
    failed      integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
    timed_out   integer NOT NULL DEFAULT 0 CHECK (timed_out >= 0),
    rejected    integer NOT NULL DEFAULT 0 CHECK (rejected >= 0),
    PRIMARY KEY (tenant_id, job_id, shard),
    FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, job_id) ON DELETE CASCADE
);

CREATE TABLE job_execution_events (
    tenant_id      text NOT NULL,
    event_id       bigint GENERATED ALWAYS AS IDENTITY,
    job_id         text NOT NULL,
    device_id      text NOT NULL,
    from_status    text NOT NULL CONSTRAINT job_execution_events_from_check CHECK (from_status IN (
                      'QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED')),
    to_status      text NOT NULL CONSTRAINT job_execution_events_to_check CHECK (to_status IN (
                      'QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED')),
    actor          text NOT NULL CONSTRAINT job_execution_events_actor_check CHECK (actor IN (
                      'device', 'operator', 'worker')),
    execution_number bigint NOT NULL,
    status_details jsonb,
    at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX job_execution_events_execution_idx ON job_execution_events (tenant_id, job_id, device_id, event_id);

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_execution_events ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON jobs
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON job_executions
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON job_counters
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
-- History is append-only for the runtime role: no UPDATE or DELETE is granted.
CREATE POLICY tenant_isolation ON job_execution_events
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- The expiry tick runs as the runtime role, tenant by tenant; this is all it may see across tenants:
-- which tenants have running jobs past their expiry.
CREATE FUNCTION iot_tenants_with_expired_jobs(p_now timestamptz)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT DISTINCT j.tenant_id FROM jobs j
     WHERE j.status = 'IN_PROGRESS' AND j.expires_at IS NOT NULL AND j.expires_at <= p_now
$fn$;
REVOKE ALL ON FUNCTION iot_tenants_with_expired_jobs(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION iot_tenants_with_expired_jobs(timestamptz) TO iotcloud_app;

GRANT SELECT, INSERT, UPDATE ON jobs, job_executions, job_counters TO iotcloud_app;
GRANT SELECT, INSERT ON job_execution_events TO iotcloud_app;

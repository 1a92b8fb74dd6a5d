-- Tenants that share a system (docs/operations.md): quotas per tenant, rate-limit counters, disabled users.

-- Quotas, on the tenant's own row (NULL: no limit). Set by `iotcloud set-quota` over the owner connection;
-- the runtime role reads them under RLS (its SELECT on tenants) and cannot change them.
ALTER TABLE tenants
    ADD COLUMN max_devices            integer CONSTRAINT tenants_max_devices_check CHECK (max_devices >= 0),
    ADD COLUMN max_active_jobs        integer CONSTRAINT tenants_max_active_jobs_check CHECK (max_active_jobs >= 0),
    ADD COLUMN max_executions_per_job integer
        CONSTRAINT tenants_max_executions_per_job_check CHECK (max_executions_per_job >= 0),
    -- artifact storage, for when artifacts land: nothing counts against it yet
    ADD COLUMN max_artifact_bytes     bigint CONSTRAINT tenants_max_artifact_bytes_check CHECK (max_artifact_bytes >= 0);

-- A disabled operator can neither log in nor use a token issued before (ui_iot/deps.py reads it on every
-- request).
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;

-- Rate limits and the device API's bad-token limiter: one fixed-window counter row per key ('device:...',
-- 'tenant:...', 'user:...', 'address:...'), shared by every replica. UNLOGGED: counters are worth no WAL
-- and a crash may forget them (they start again from zero). No tenant_id and no RLS: the runtime role has
-- no privilege on it and reaches it only through the SECURITY DEFINER functions of db/functions/080_limits.sql.
CREATE UNLOGGED TABLE rate_counters (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL CONSTRAINT rate_counters_hits_check CHECK (hits >= 0)
);
CREATE INDEX rate_counters_window_idx ON rate_counters (window_start);

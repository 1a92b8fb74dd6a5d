-- Job lifecycle, part two (issue 11): deleting jobs and executions (AWS DeleteJob, DeleteJobExecution), job
-- templates (AWS job templates) and the operator audit log.

-- A job being deleted is hidden at once (deleting_at set: gone from every list, its executions refused to
-- devices), then its executions, their history and its counters are deleted in bounded batches; the last
-- batch deletes the job row (shared/jobs/deletion.py, db/functions/065_lifecycle.sql).
-- template_id: the template a job was made from (no foreign key: a template may be deleted, its jobs stay).
ALTER TABLE jobs
    ADD COLUMN deleting_at timestamptz,
    ADD COLUMN template_id text CONSTRAINT jobs_template_id_check CHECK (template_id ~ '^[A-Za-z0-9_-]{1,64}$');
CREATE INDEX jobs_deleting_idx ON jobs (tenant_id, job_id) WHERE deleting_at IS NOT NULL;

-- The runtime role deletes jobs, executions and counters (no more than that: history is deleted only through
-- iotcloud.delete_history, which deletes the history of executions that no longer exist).
GRANT DELETE ON jobs, job_executions, job_counters TO iotcloud_app;

-- Job templates: a vetted job definition. `document` is the job's document (params), whose string values may
-- hold ${aws:iot:parameter:NAME} placeholders filled by a job's document_parameters; the timeouts are the
-- defaults of jobs made from it; `configs` holds further job configs (rollout, abort, retry, scheduling) as
-- given, validated when jobs apply them.
CREATE TABLE job_templates (
    tenant_id                   text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    template_id                 text NOT NULL CHECK (template_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    description                 text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    document_type               text NOT NULL CHECK (char_length(document_type) BETWEEN 1 AND 100),
    document                    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(document) = 'object'),
    expires_in_hours            double precision CHECK (expires_in_hours > 0 AND expires_in_hours <= 24 * 366),
    in_progress_timeout_minutes integer CHECK (in_progress_timeout_minutes BETWEEN 1 AND 10080),
    configs                     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(configs) = 'object'),
    created_by                  text,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, template_id)
);

-- The operator audit log: who did what to which target, written in the transaction of the action itself.
-- Append-only for the runtime role (INSERT and SELECT only).
CREATE TABLE audit_log (
    tenant_id     text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    audit_id      bigint GENERATED ALWAYS AS IDENTITY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 320),  -- e-mail, user id, or 'cli'
    actor_user_id uuid,
    action        text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    target_type   text NOT NULL CHECK (target_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    target_id     text NOT NULL CHECK (char_length(target_id) BETWEEN 1 AND 300),
    details       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object'),
    PRIMARY KEY (tenant_id, audit_id)
);
CREATE INDEX audit_log_target_idx ON audit_log (tenant_id, target_type, target_id, audit_id);
CREATE INDEX audit_log_action_idx ON audit_log (tenant_id, action, audit_id);

ALTER TABLE job_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON job_templates
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON audit_log
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, DELETE ON job_templates TO iotcloud_app;
GRANT SELECT, INSERT ON audit_log TO iotcloud_app;

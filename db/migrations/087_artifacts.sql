-- Artifacts (OTA files, as hawkBit's and Mender's): a tenant's named files, stored content-addressed by SHA-256
-- (services/shared/artifacts/: the bytes live in the storage, a disk directory by default, never in the
-- database). A job document may reference one as ${iotcloud:artifact-url:NAME}; the job lists the names it
-- references in jobs.artifacts, so an artifact still needed by a running job cannot be deleted.
CREATE TABLE artifacts (
    tenant_id    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    name         text NOT NULL CONSTRAINT artifacts_name_check CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'),
    sha256       text NOT NULL CONSTRAINT artifacts_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL CONSTRAINT artifacts_size_check CHECK (size >= 0),
    content_type text NOT NULL DEFAULT 'application/octet-stream'
                 CONSTRAINT artifacts_content_type_check CHECK (char_length(content_type) BETWEEN 1 AND 200),
    created_by   text,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
-- Whether a blob is still referenced (delete), and a download's lookup by content.
CREATE INDEX artifacts_sha256_idx ON artifacts (tenant_id, sha256);

ALTER TABLE artifacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON artifacts
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
-- UPDATE only for the row locks (FOR SHARE at a job's creation, FOR UPDATE at a delete): no route updates one.
GRANT SELECT, INSERT, UPDATE, DELETE ON artifacts TO iotcloud_app;

-- The artifacts a job's document references (by name), and which jobs reference an artifact.
ALTER TABLE jobs ADD COLUMN artifacts text[] NOT NULL DEFAULT '{}';
CREATE INDEX jobs_artifacts_idx ON jobs USING gin (artifacts) WHERE artifacts <> '{}';

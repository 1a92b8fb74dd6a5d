-- AWS access keys (docs/aws-compat.md): an operator's credentials for the AWS-compatible API (SigV4). The
-- secret is stored encrypted with the installation secret (Fernet, key derived by HKDF: shared/access_keys.py)
-- because SigV4 needs it to recompute a signature; it is shown once, at creation. A key carries its creator's
-- role at creation and goes with its creator (ON DELETE CASCADE); a revoked key is kept (revoked_at) and
-- refused. Looked up across tenants only by iotcloud.aws_credential (db/functions/097_aws.sql).
CREATE TABLE aws_access_keys (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    access_key_id    text NOT NULL CONSTRAINT aws_access_keys_id_check CHECK (access_key_id ~ '^AKIA[A-Z2-7]{16}$'),
    secret_encrypted text NOT NULL,
    user_id          uuid NOT NULL,
    role             text NOT NULL CONSTRAINT aws_access_keys_role_check
                     CHECK (role IN ('admin', 'operator', 'viewer')),
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    revoked_at       timestamptz,
    PRIMARY KEY (tenant_id, access_key_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX aws_access_keys_access_key_id_key ON aws_access_keys (access_key_id);
CREATE INDEX aws_access_keys_user_idx ON aws_access_keys (tenant_id, user_id);

ALTER TABLE aws_access_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON aws_access_keys
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
-- UPDATE only to revoke (revoked_at); a key is never deleted by the API.
GRANT SELECT, INSERT, UPDATE ON aws_access_keys TO iotcloud_app;

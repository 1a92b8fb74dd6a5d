-- Tenants, operators, devices (with their twin) and device groups.
-- Every tenant-owned table has tenant_id in its primary key and an RLS policy on app.tenant_id.
-- Tables are owned by the migration role (iot); services connect as iotcloud_app, which
-- neither owns them nor bypasses RLS.

CREATE TABLE tenants (
    tenant_id   text PRIMARY KEY CHECK (tenant_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant_id     text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    user_id       uuid NOT NULL DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 320),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE device_state (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    device_id        text NOT NULL CHECK (device_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    name             text NOT NULL DEFAULT '' CHECK (char_length(name) <= 200),
    attributes       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
    status           text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'REVOKED')),
    token_hash       text NOT NULL,
    last_seen_at     timestamptz,
    desired_state    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(desired_state) = 'object'),
    reported_state   jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(reported_state) = 'object'),
    desired_version  bigint NOT NULL DEFAULT 0,
    reported_version bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device_id)
);
CREATE UNIQUE INDEX device_state_token_hash_key ON device_state (token_hash);
CREATE INDEX device_state_tenant_created_idx ON device_state (tenant_id, created_at DESC, device_id);

CREATE TABLE device_groups (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    group_id    text NOT NULL CHECK (group_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id)
);

CREATE TABLE device_group_members (
    tenant_id  text NOT NULL,
    group_id   text NOT NULL,
    device_id  text NOT NULL,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, device_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES device_groups (tenant_id, group_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, device_id) REFERENCES device_state (tenant_id, device_id) ON DELETE CASCADE
);
CREATE INDEX device_group_members_device_idx ON device_group_members (tenant_id, device_id);

-- Row-level security: a transaction sees only the tenant named by set_config('app.tenant_id', ..., true).
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_group_members ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON tenants
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON device_state
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON device_groups
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_isolation ON device_group_members
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- The two lookups that must cross tenants, before a tenant is known. SECURITY DEFINER (owned by iot),
-- narrow, and executable only by the runtime role.

-- Device authentication by the SHA-256 of its provision token. Also refreshes last_seen_at, but only
-- when it is older than p_seen_interval seconds, so a busy device does not write on every request.
CREATE FUNCTION iot_device_auth(p_token_hash text, p_seen_interval integer)
RETURNS TABLE (tenant_id text, device_id text, status text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    r record;
BEGIN
    SELECT d.tenant_id, d.device_id, d.status, d.last_seen_at INTO r
      FROM device_state d WHERE d.token_hash = p_token_hash;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF r.status = 'ACTIVE'
       AND (r.last_seen_at IS NULL OR r.last_seen_at < now() - make_interval(secs => p_seen_interval)) THEN
        UPDATE device_state d SET last_seen_at = now()
         WHERE d.tenant_id = r.tenant_id AND d.device_id = r.device_id;
    END IF;
    tenant_id := r.tenant_id; device_id := r.device_id; status := r.status;
    RETURN NEXT;
END
$fn$;

-- Operator login by e-mail.
CREATE FUNCTION iot_login_lookup(p_email text)
RETURNS TABLE (tenant_id text, user_id uuid, email text, password_hash text, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT u.tenant_id, u.user_id, u.email, u.password_hash, u.role
      FROM users u WHERE lower(u.email) = lower(p_email)
$fn$;

REVOKE ALL ON FUNCTION iot_device_auth(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION iot_login_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION iot_device_auth(text, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iot_login_lookup(text) TO iotcloud_app;

GRANT USAGE ON SCHEMA public TO iotcloud_app;
GRANT SELECT ON tenants TO iotcloud_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, device_state, device_groups, device_group_members
    TO iotcloud_app;

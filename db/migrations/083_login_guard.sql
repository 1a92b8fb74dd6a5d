-- Operator login guard: failed logins counted per account (e-mail, lowercased) and per client address, in
-- the database so that every replica of the operator API sees the same counts. Keyed before a tenant is
-- known, so no tenant_id and no RLS: the runtime role has no privilege on the table at all and reaches it
-- only through the SECURITY DEFINER functions of db/functions/050_login_guard.sql.
CREATE TABLE login_attempts (
    scope          text NOT NULL CONSTRAINT login_attempts_scope_check CHECK (scope IN ('account', 'address')),
    key            text NOT NULL,
    -- attempts in the current window that did not succeed (a login being checked counts until it is judged)
    attempts       integer NOT NULL CONSTRAINT login_attempts_attempts_check CHECK (attempts >= 0),
    window_ends_at timestamptz NOT NULL,
    -- set when attempts reach the limit: until then every login of this account or address is refused
    locked_until   timestamptz,
    PRIMARY KEY (scope, key)
);
-- A row is stale once both its window and its lockout are over; attempts delete stale rows as they go.
CREATE INDEX login_attempts_stale_idx ON login_attempts ((greatest(window_ends_at, locked_until)));

-- Devices: authentication and the hot calls, one statement each. Only the token lookup
-- (iotcloud.device_auth) crosses tenants; everything after it runs as the caller under row-level security, with
-- app.tenant_id set to the device's tenant for the rest of the transaction.

-- Device authentication by the SHA-256 of its provision token. Also refreshes last_seen_at, but only when
-- it is older than p_seen_interval seconds, so a busy device does not write on every request.
CREATE FUNCTION iotcloud.device_auth(p_token_hash text, p_seen_interval integer, p_now timestamptz)
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
       AND (r.last_seen_at IS NULL OR r.last_seen_at < p_now - make_interval(secs => p_seen_interval)) THEN
        UPDATE device_state d SET last_seen_at = p_now
         WHERE d.tenant_id = r.tenant_id AND d.device_id = r.device_id;
    END IF;
    tenant_id := r.tenant_id; device_id := r.device_id; status := r.status;
    RETURN NEXT;
END
$fn$;

-- An unknown or revoked token raises SQLSTATE 28000 (invalid_authorization_specification).
CREATE FUNCTION iotcloud.device_session(p_token_hash text, p_seen_interval integer, p_now timestamptz)
RETURNS TABLE (tenant_id text, device_id text)
LANGUAGE plpgsql AS $fn$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM iotcloud.device_auth(p_token_hash, p_seen_interval, p_now);
    IF NOT FOUND OR a.status <> 'ACTIVE' THEN
        RAISE EXCEPTION 'unknown or revoked provision token'
              USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    PERFORM set_config('app.tenant_id', a.tenant_id, true);
    tenant_id := a.tenant_id;
    device_id := a.device_id;
    RETURN NEXT;
END
$fn$;

-- The device's pending work: what it has started (always, even past the job's expiry: it may finish it),
-- then what it may start (QUEUED executions of running jobs not past expires_at), oldest first.
CREATE FUNCTION iotcloud.device_poll(p_token_hash text, p_seen_interval integer, p_now timestamptz,
                                p_limit integer)
RETURNS TABLE (job_id text, status text, status_details jsonb, execution_number bigint,
               queued_at timestamptz, started_at timestamptz, last_updated_at timestamptz,
               document_type text, document_params jsonb, expires_at timestamptz)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM iotcloud.device_session(p_token_hash, p_seen_interval, p_now);
    RETURN QUERY
    SELECT e.job_id, e.status, e.status_details, e.execution_number, e.queued_at,
           e.started_at, e.last_updated_at, j.document_type, j.document_params, j.expires_at
      FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
     WHERE e.tenant_id = s.tenant_id AND e.device_id = s.device_id AND e.status IN ('QUEUED', 'IN_PROGRESS')
       AND (e.status = 'IN_PROGRESS'
            OR (j.status = 'IN_PROGRESS' AND (j.expires_at IS NULL OR j.expires_at > p_now)))
     ORDER BY (e.status = 'IN_PROGRESS') DESC, e.queued_at, e.job_id
     LIMIT p_limit;
END
$fn$;

-- A device's move of its own execution: iotcloud.move_executions for one request.
CREATE FUNCTION iotcloud.device_move(p_token_hash text, p_seen_interval integer, p_now timestamptz, p_job_id text,
                                p_target text, p_details jsonb, p_expected bigint)
RETURNS SETOF iotcloud.move_result
LANGUAGE plpgsql AS $fn$
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM iotcloud.device_session(p_token_hash, p_seen_interval, p_now);
    RETURN QUERY
    SELECT * FROM iotcloud.move_executions('device', p_now, ARRAY[p_job_id], ARRAY[s.device_id], ARRAY[p_target],
                                      ARRAY[p_details], ARRAY[p_expected]);
END
$fn$;

-- Operator login by e-mail (before a tenant is known).
CREATE FUNCTION iotcloud.login_lookup(p_email text)
RETURNS TABLE (tenant_id text, user_id uuid, email text, password_hash text, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT u.tenant_id, u.user_id, u.email, u.password_hash, u.role
      FROM users u WHERE lower(u.email) = lower(p_email)
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.device_auth(text, integer, timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.device_session(text, integer, timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.device_poll(text, integer, timestamptz, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.device_move(text, integer, timestamptz, text, text, jsonb, bigint) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.login_lookup(text) TO iotcloud_app;

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
-- then what it may start (QUEUED executions of running jobs not past expires_at that the job's rollout has
-- reached), oldest first. The one definition of a poll's answer: a plain SQL function, inlined into the
-- statements that use it (iotcloud.device_polls). It runs as
-- the caller, under row-level security.
CREATE FUNCTION iotcloud.pending_work(p_tenant text, p_device text, p_now timestamptz, p_limit integer)
RETURNS TABLE (job_id text, status text, status_details jsonb, execution_number bigint,
               queued_at timestamptz, started_at timestamptz, last_updated_at timestamptz,
               document_type text, document_params jsonb, expires_at timestamptz)
LANGUAGE sql STABLE AS $fn$
    SELECT e.job_id, e.status, e.status_details, e.execution_number, e.queued_at,
           e.started_at, e.last_updated_at, j.document_type, j.document_params, j.expires_at
      FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
     WHERE e.tenant_id = p_tenant AND e.device_id = p_device AND e.status IN ('QUEUED', 'IN_PROGRESS')
       AND j.deleting_at IS NULL  -- a job being deleted is gone
       AND (e.status = 'IN_PROGRESS'
            OR (j.status = 'IN_PROGRESS' AND (j.expires_at IS NULL OR j.expires_at > p_now)
                AND (e.rollout_rank IS NULL OR e.rollout_rank <= j.released_upto)))
     ORDER BY (e.status = 'IN_PROGRESS') DESC, e.queued_at, e.job_id
     LIMIT p_limit
$fn$;

-- Many devices at once, by token hash (position = request order): tenant, device and status of each known
-- token, last_seen_at refreshed as iotcloud.device_auth does (only where it is older than p_seen_interval,
-- by primary key). One statement: one token lookup per request. For group commit and group read
-- (iotcloud.device_moves, iotcloud.device_polls).
CREATE FUNCTION iotcloud.devices_auth(p_token_hashes text[], p_seen_interval integer, p_now timestamptz)
RETURNS TABLE (ord bigint, tenant_id text, device_id text, status text)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    WITH found AS (
        SELECT h.ord, d.tenant_id, d.device_id, d.status, d.last_seen_at
          FROM unnest(p_token_hashes) WITH ORDINALITY AS h(token_hash, ord)
          JOIN device_state d ON d.token_hash = h.token_hash
    ), seen AS (
        UPDATE device_state d SET last_seen_at = p_now
          FROM found f
         WHERE d.tenant_id = f.tenant_id AND d.device_id = f.device_id AND f.status = 'ACTIVE'
           AND (f.last_seen_at IS NULL OR f.last_seen_at < p_now - make_interval(secs => p_seen_interval))
    )
    SELECT f.ord, f.tenant_id, f.device_id, f.status FROM found f
$fn$;

-- What group commit answers per request: iotcloud.move_result's columns, and for a start-next request the
-- execution's document and whether the device had more pending work.
CREATE TYPE iotcloud.device_move AS (
    ord              bigint,
    job_id           text,
    device_id        text,
    outcome          text,
    from_status      text,
    status           text,
    status_details   jsonb,
    execution_number bigint,
    queued_at        timestamptz,
    started_at       timestamptz,
    last_updated_at  timestamptz,
    timeout_at       timestamptz,
    shard            smallint,
    job_completed    boolean,
    retry_attempt    smallint,
    more_pending     boolean,
    document_type    text,
    document_params  jsonb,
    expires_at       timestamptz
);

-- Group commit: the moves of many devices, possibly of several tenants, in one statement (one commit).
-- Each tenant's requests go to iotcloud.apply_moves under that tenant; an unknown or revoked token's
-- request comes back with outcome 'unauthorized'. One row per request, `ord` its position in the arrays.
-- The caller keeps each token once per call: a device's second request waits for the next call.
-- A request with a NULL job id is a start-next (AWS StartNextPendingJobExecution): the device's next
-- pending execution (the first of iotcloud.pending_work) is read in this statement and moved to the
-- request's target (IN_PROGRESS) from the execution number just read, like any other request; outcome
-- 'none' when nothing is pending, 'unchanged' (its state as it is) when the next one is IN_PROGRESS and the
-- request gives no details nor step timeout. Its row carries the document and more_pending.
CREATE FUNCTION iotcloud.device_moves(p_seen_interval integer, p_now timestamptz, p_token_hashes text[],
                                      p_job_ids text[], p_targets text[], p_details jsonb[],
                                      p_expected bigint[], p_steps integer[] DEFAULT NULL)
RETURNS SETOF iotcloud.device_move
LANGUAGE plpgsql AS $fn$
DECLARE
    a_ord     bigint[];
    a_tenant  text[];
    a_device  text[];
    a_status  text[];
    v_tenant  text;
    v_pos     bigint[];
    v_jobs    text[];
    v_devices text[];
    v_targets text[];
    v_details jsonb[];
    v_expect  bigint[];
    v_steps   integer[];
    s_ord     bigint[];
    s_dev     text[];
    s_job     text[];
    s_number  bigint[];
    s_more    boolean[];
    s_move    boolean[];
BEGIN
    SELECT array_agg(x.ord), array_agg(x.tenant_id), array_agg(x.device_id), array_agg(x.status)
      INTO a_ord, a_tenant, a_device, a_status
      FROM iotcloud.devices_auth(p_token_hashes, p_seen_interval, p_now) x;

    RETURN QUERY
    SELECT h.ord::bigint, p_job_ids[h.ord], NULL::text, 'unauthorized', NULL::text, NULL::text, NULL::jsonb,
           NULL::bigint, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz,
           NULL::smallint, false, NULL::smallint, NULL::boolean, NULL::text, NULL::jsonb, NULL::timestamptz
      FROM generate_subscripts(p_token_hashes, 1) AS h(ord)
     WHERE NOT EXISTS (SELECT 1 FROM unnest(a_ord, a_status) AS u(ord, status)
                        WHERE u.ord = h.ord AND u.status = 'ACTIVE');

    FOR v_tenant IN
        SELECT DISTINCT u.tenant_id FROM unnest(a_tenant, a_status) AS u(tenant_id, status) WHERE u.status = 'ACTIVE'
    LOOP
        PERFORM set_config('app.tenant_id', v_tenant, true);
        s_ord := NULL;
        -- start-next requests: each device's next pending execution, and whether it has more
        IF array_position(p_job_ids, NULL) IS NOT NULL THEN
            SELECT array_agg(u.ord), array_agg(u.device_id), array_agg(w.job_id), array_agg(w.execution_number),
                   array_agg(w.n > 1),
                   array_agg(w.job_id IS NOT NULL
                             AND (w.status = 'QUEUED' OR p_details[u.ord] IS NOT NULL OR p_steps[u.ord] IS NOT NULL))
              INTO s_ord, s_dev, s_job, s_number, s_more, s_move
              FROM unnest(a_ord, a_tenant, a_device, a_status) AS u(ord, tenant_id, device_id, status)
              LEFT JOIN LATERAL (SELECT p.job_id, p.status, p.execution_number, count(*) OVER () AS n
                                   FROM iotcloud.pending_work(v_tenant, u.device_id, p_now, 2) p
                                  LIMIT 1) w ON true
             WHERE u.tenant_id = v_tenant AND u.status = 'ACTIVE' AND p_job_ids[u.ord] IS NULL;
            -- nothing pending ('none'), or the one IN_PROGRESS as it is ('unchanged')
            RETURN QUERY
            SELECT s.ord, s.job_id, s.device_id,
                   CASE WHEN s.job_id IS NULL THEN 'none' ELSE 'unchanged' END,
                   e.status, e.status, e.status_details, e.execution_number, e.queued_at, e.started_at,
                   e.last_updated_at, e.timeout_at, e.shard, false, e.retry_attempt, coalesce(s.more, false),
                   j.document_type, j.document_params, j.expires_at
              FROM unnest(s_ord, s_dev, s_job, s_more, s_move) AS s(ord, device_id, job_id, more, move)
              LEFT JOIN job_executions e ON e.tenant_id = v_tenant AND e.job_id = s.job_id
                                        AND e.device_id = s.device_id
              LEFT JOIN jobs j ON j.tenant_id = v_tenant AND j.job_id = s.job_id
             WHERE NOT s.move;
        END IF;
        SELECT array_agg(u.ord ORDER BY u.ord), array_agg(coalesce(p_job_ids[u.ord], s.job_id) ORDER BY u.ord),
               array_agg(u.device_id ORDER BY u.ord), array_agg(p_targets[u.ord] ORDER BY u.ord),
               array_agg(p_details[u.ord] ORDER BY u.ord),
               array_agg(CASE WHEN s.ord IS NULL THEN p_expected[u.ord] ELSE s.number END ORDER BY u.ord),
               array_agg(p_steps[u.ord] ORDER BY u.ord)
          INTO v_pos, v_jobs, v_devices, v_targets, v_details, v_expect, v_steps
          FROM unnest(a_ord, a_tenant, a_device, a_status) AS u(ord, tenant_id, device_id, status)
          LEFT JOIN unnest(s_ord, s_job, s_number, s_move) AS s(ord, job_id, number, move) ON s.ord = u.ord
         WHERE u.tenant_id = v_tenant AND u.status = 'ACTIVE' AND (p_job_ids[u.ord] IS NOT NULL OR s.move);
        IF v_pos IS NULL THEN
            CONTINUE;
        END IF;
        -- iotcloud.move_executions' body (apply_moves with its answers), without the SQL function around it;
        -- a start-next's row gets its document (one job row by key) and more_pending
        RETURN QUERY
        SELECT v_pos[m.ord], m.job_id, m.device_id, m.outcome, m.from_status, m.status, m.status_details,
               m.execution_number, m.queued_at, m.started_at, m.last_updated_at, m.timeout_at, m.shard,
               m.job_completed, m.retry_attempt, s.more, j.document_type, j.document_params, j.expires_at
          FROM iotcloud.apply_moves('device', p_now, v_jobs, v_devices, v_targets, v_details, v_expect, true, false,
                                    v_steps) a
         CROSS JOIN unnest(a.results) m
          LEFT JOIN unnest(s_ord, s_more) AS s(ord, more) ON s.ord = v_pos[m.ord]
          LEFT JOIN jobs j ON s.ord IS NOT NULL AND j.tenant_id = v_tenant AND j.job_id = m.job_id;
    END LOOP;
END
$fn$;

-- Group read: the polls of many devices, possibly of several tenants, in one statement (token hashes in
-- arrival order, `ord` the position; each poll at its own time, p_nows). Authentication and the
-- last_seen_at refresh as iotcloud.devices_auth does (at the latest of the times), then each tenant's
-- devices' pending work (iotcloud.pending_work) under that tenant. Per request:
-- no row when the token is unknown or revoked (`authorized` tells nothing then), one row with a NULL job_id
-- when the device has nothing pending, else one row per pending execution, in the device's order.
CREATE FUNCTION iotcloud.device_polls(p_token_hashes text[], p_nows timestamptz[], p_seen_interval integer,
                                      p_limit integer)
RETURNS TABLE (ord bigint, job_id text, status text, status_details jsonb, execution_number bigint,
               queued_at timestamptz, started_at timestamptz, last_updated_at timestamptz,
               document_type text, document_params jsonb, expires_at timestamptz)
LANGUAGE plpgsql AS $fn$
DECLARE
    a_ord     bigint[];
    a_tenant  text[];
    a_device  text[];
    v_tenant  text;
BEGIN
    SELECT array_agg(x.ord), array_agg(x.tenant_id), array_agg(x.device_id)
      INTO a_ord, a_tenant, a_device
      FROM iotcloud.devices_auth(p_token_hashes, p_seen_interval, (SELECT max(n) FROM unnest(p_nows) AS n)) x
     WHERE x.status = 'ACTIVE';
    FOR v_tenant IN SELECT DISTINCT u.tenant_id FROM unnest(a_tenant) AS u(tenant_id) LOOP
        PERFORM set_config('app.tenant_id', v_tenant, true);
        RETURN QUERY
        SELECT u.ord, w.job_id, w.status, w.status_details, w.execution_number, w.queued_at, w.started_at,
               w.last_updated_at, w.document_type, w.document_params, w.expires_at
          FROM unnest(a_ord, a_tenant, a_device) AS u(ord, tenant_id, device_id)
          LEFT JOIN LATERAL iotcloud.pending_work(v_tenant, u.device_id, p_nows[u.ord], p_limit) w ON true
         WHERE u.tenant_id = v_tenant;
    END LOOP;
END
$fn$;

-- Operator login by e-mail (before a tenant is known); a disabled user is found too (and then refused).
CREATE FUNCTION iotcloud.login_lookup(p_email text)
RETURNS TABLE (tenant_id text, user_id uuid, email text, password_hash text, role text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT u.tenant_id, u.user_id, u.email, u.password_hash, u.role, u.disabled
      FROM users u WHERE lower(u.email) = lower(p_email)
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.device_auth(text, integer, timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.device_session(text, integer, timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.pending_work(text, text, timestamptz, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.device_polls(text[], timestamptz[], integer, integer) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.login_lookup(text) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.devices_auth(text[], integer, timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.device_moves(integer, timestamptz, text[], text[], text[], jsonb[], bigint[],
                                                integer[]) TO iotcloud_app;

-- Rate limits shared by every replica (the table: db/migrations/089_quotas_limits_users.sql). One fixed
-- window per key: the first request of a window sets its counter to 1, each next one adds 1, all in one
-- upsert; past the key's limit the caller is told how many seconds are left of the window. A refused
-- request is counted too (it does not move the window's end). docs/operations.md says why PostgreSQL and
-- why a fixed window.

-- Counts one request against each key (distinct keys; p_limits[i] is p_keys[i]'s limit per window) and
-- returns NULL while every key is within its limit, else the seconds until the latest exceeded window ends.
-- Rows are locked in key order, so concurrent calls on overlapping keys cannot deadlock. A counter whose
-- window is newer than the caller's (another replica's clock ran ahead) keeps its window and counts the hit.
-- Not executable by the runtime role: only the SECURITY DEFINER functions below call it. PL/pgSQL, so that
-- its statement is planned once per connection (a LANGUAGE sql function with a CTE is planned on every call).
CREATE FUNCTION iotcloud.rate_count(p_keys text[], p_limits integer[], p_window integer, p_now timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_start timestamptz := to_timestamp(floor(extract(epoch FROM p_now) / p_window) * p_window);
    v_until timestamptz;
BEGIN
    WITH hit AS (
        INSERT INTO public.rate_counters AS c (key, window_start, hits)
        SELECT k.key, v_start, 1 FROM unnest(p_keys) AS k(key) ORDER BY k.key
        ON CONFLICT (key) DO UPDATE
           SET hits = CASE WHEN c.window_start >= excluded.window_start THEN c.hits + 1 ELSE 1 END,
               window_start = greatest(c.window_start, excluded.window_start)
        RETURNING c.key, c.hits, c.window_start)
    SELECT max(h.window_start) + make_interval(secs => p_window) INTO v_until
      FROM hit h JOIN unnest(p_keys, p_limits) AS l(key, lim) ON l.key = h.key
     WHERE h.hits > l.lim;
    IF v_until IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN greatest(1, ceil(extract(epoch FROM v_until - p_now)))::integer;
END
$fn$;

-- One request of a device on the device API, counted per device and per tenant (a limit of 0 is no limit):
-- NULL to go ahead, else Retry-After seconds. An unknown or revoked token counts nothing (NULL): the call
-- that follows refuses it, and the bad-token limiter counts it.
CREATE FUNCTION iotcloud.device_rate_hit(p_token_hash text, p_per_device integer, p_per_tenant integer,
                                         p_window integer, p_now timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    d record;
BEGIN
    SELECT s.tenant_id, s.device_id INTO d FROM device_state s
     WHERE s.token_hash = p_token_hash AND s.status = 'ACTIVE';
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF p_per_device > 0 AND p_per_tenant > 0 THEN
        RETURN iotcloud.rate_count(ARRAY['device:' || d.tenant_id || '/' || d.device_id, 'tenant:' || d.tenant_id],
                                   ARRAY[p_per_device, p_per_tenant], p_window, p_now);
    ELSIF p_per_device > 0 THEN
        RETURN iotcloud.rate_count(ARRAY['device:' || d.tenant_id || '/' || d.device_id], ARRAY[p_per_device],
                                   p_window, p_now);
    ELSIF p_per_tenant > 0 THEN
        RETURN iotcloud.rate_count(ARRAY['tenant:' || d.tenant_id], ARRAY[p_per_tenant], p_window, p_now);
    END IF;
    RETURN NULL;
END
$fn$;

-- One request of an operator (p_user_id) on the operator API: NULL to go ahead, else Retry-After seconds.
CREATE FUNCTION iotcloud.user_rate_hit(p_user_id text, p_limit integer, p_window integer, p_now timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    RETURN iotcloud.rate_count(ARRAY['user:' || p_user_id], ARRAY[p_limit], p_window, p_now);
END
$fn$;

-- A failed device authentication (missing, unknown or revoked token) from p_address: counted, and NULL
-- while the address is within p_limit failures per window, else Retry-After seconds. Called only after a
-- token failed, so a valid token behind the same address (carrier NAT) is never refused by it. Addresses are
-- the one key an attacker can multiply: each call deletes a few counters of windows long over.
CREATE FUNCTION iotcloud.auth_failure(p_address text, p_limit integer, p_window integer, p_now timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    DELETE FROM rate_counters WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM rate_counters
         WHERE window_start < p_now - make_interval(secs => p_window) AND key LIKE 'address:%'
         LIMIT 10 FOR UPDATE SKIP LOCKED));
    RETURN iotcloud.rate_count(ARRAY['address:' || p_address], ARRAY[p_limit], p_window, p_now);
END
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.device_rate_hit(text, integer, integer, integer, timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.user_rate_hit(text, integer, integer, timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.auth_failure(text, integer, integer, timestamptz) TO iotcloud_app;

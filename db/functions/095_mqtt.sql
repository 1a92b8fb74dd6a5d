-- The MQTT gateway (services/mqtt_gateway, docs/mqtt.md). Like iotcloud.device_auth, these cross tenants only
-- through what a device proves: its thing_name with its provision token's SHA-256, or the token hashes of the
-- devices connected to a gateway. Nothing here moves an execution: moves go through iotcloud.device_moves.

-- CONNECT: the device whose thing_name is p_thing and whose token hashes to p_token_hash, if ACTIVE
-- (no row otherwise). Refreshes last_seen_at as iotcloud.device_auth does.
CREATE FUNCTION iotcloud.mqtt_auth(p_thing text, p_token_hash text, p_seen_interval integer, p_now timestamptz)
RETURNS TABLE (tenant_id text, device_id text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT a.tenant_id, a.device_id
      FROM iotcloud.device_auth(p_token_hash, p_seen_interval, p_now) a
      JOIN device_state d ON d.tenant_id = a.tenant_id AND d.device_id = a.device_id
     WHERE a.status = 'ACTIVE' AND d.thing_name = p_thing;
END
$fn$;

-- The connected devices' tokens that are still good (position in p_token_hashes): a token revoked or
-- rotated away is missing, and the gateway disconnects its device. One statement for all connections.
CREATE FUNCTION iotcloud.mqtt_live(p_token_hashes text[])
RETURNS TABLE (ord bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT h.ord
      FROM unnest(p_token_hashes) WITH ORDINALITY AS h(token_hash, ord)
      JOIN device_state d ON d.token_hash = h.token_hash
     WHERE d.status = 'ACTIVE'
$fn$;

-- The pending executions of many devices at once (by token hash; `ord` its position), each device's in
-- iotcloud.pending_work's order and with its filter (what the device has started, then what it may start:
-- QUEUED executions of running jobs not past expires_at that the rollout has reached; no job being deleted),
-- at most p_limit each.
-- `pos` 1 is the device's next execution, the only one that carries its job's document_params. For the
-- jobs get/notify/notify-next topics, which need retry_attempt (AWS's executionNumber) and many devices per
-- statement; tests/integration/test_mqtt_sql.py checks it lists what the HTTP poll (device_polls) lists.
CREATE FUNCTION iotcloud.mqtt_pending(p_token_hashes text[], p_now timestamptz, p_limit integer)
RETURNS TABLE (ord bigint, pos bigint, job_id text, status text, status_details jsonb, execution_number bigint,
               retry_attempt smallint, queued_at timestamptz, started_at timestamptz,
               last_updated_at timestamptz, timeout_at timestamptz, document_params jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT h.ord, p.pos, p.job_id, p.status, p.status_details, p.execution_number, p.retry_attempt,
           p.queued_at, p.started_at, p.last_updated_at, p.timeout_at,
           CASE WHEN p.pos = 1 THEN p.document_params END
      FROM unnest(p_token_hashes) WITH ORDINALITY AS h(token_hash, ord)
      JOIN device_state d ON d.token_hash = h.token_hash AND d.status = 'ACTIVE'
      CROSS JOIN LATERAL (
          SELECT row_number() OVER (ORDER BY (e.status = 'IN_PROGRESS') DESC, e.queued_at, e.job_id) AS pos,
                 e.job_id, e.status, e.status_details, e.execution_number, e.retry_attempt, e.queued_at,
                 e.started_at, e.last_updated_at, e.timeout_at, j.document_params
            FROM job_executions e JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
           WHERE e.tenant_id = d.tenant_id AND e.device_id = d.device_id AND e.status IN ('QUEUED', 'IN_PROGRESS')
             AND j.deleting_at IS NULL  -- a job being deleted is gone
             AND (e.status = 'IN_PROGRESS'
                  OR (j.status = 'IN_PROGRESS' AND (j.expires_at IS NULL OR j.expires_at > p_now)
                      AND (e.rollout_rank IS NULL OR e.rollout_rank <= j.released_upto)))
           ORDER BY (e.status = 'IN_PROGRESS') DESC, e.queued_at, e.job_id
           LIMIT p_limit
      ) p
     ORDER BY h.ord, p.pos
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.mqtt_auth(text, text, integer, timestamptz) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.mqtt_live(text[]) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.mqtt_pending(text[], timestamptz, integer) TO iotcloud_app;

-- The AWS-compatible API's SigV4 authentication (services/aws_api/sigv4.py, docs/aws-compat.md). The one way
-- across tenants: the credential of an access key id, which the server needs to recompute the request's
-- signature before it knows the tenant. Two kinds of access key id:
--   * an operator's key (AKIA...): its tenant, role, creator (for the rate limit) and encrypted secret, unless revoked or its creator is
--     disabled (a deleted creator's keys are gone: ON DELETE CASCADE);
--   * a device's thing name (`<tenant>:<device_id>`, migration 091): its tenant and device, and the SHA-256
--     of its provision token, which is the device's SigV4 secret, if the device is ACTIVE.
-- No row: unknown, revoked or not active. Nothing else is returned, nothing is written.
CREATE FUNCTION iotcloud.aws_credential(p_access_key_id text)
RETURNS TABLE (kind text, tenant_id text, role text, device_id text, user_id text, secret text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT 'operator', k.tenant_id,
           -- the key's role (its creator's at creation), lowered to the creator's role now if that is less
           CASE WHEN 'viewer' IN (k.role, u.role) THEN 'viewer'
                WHEN 'operator' IN (k.role, u.role) THEN 'operator' ELSE 'admin' END,
           NULL::text, k.user_id::text, k.secret_encrypted
      FROM aws_access_keys k
      JOIN users u ON u.tenant_id = k.tenant_id AND u.user_id = k.user_id
     WHERE k.access_key_id = p_access_key_id AND k.revoked_at IS NULL AND NOT u.disabled
    UNION ALL
    SELECT 'device', d.tenant_id, NULL::text, d.device_id, NULL::text, d.token_hash
      FROM device_state d
     WHERE d.thing_name = p_access_key_id AND d.status = 'ACTIVE'
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.aws_credential(text) TO iotcloud_app;

-- MQTT identity (docs/mqtt.md): each device's thing_name, unique across tenants, `<tenant_id>:<device_id>`.
-- A tenant id has no ':' (tenants_tenant_id_check), so the first ':' splits it back: the name is unique by
-- construction, valid as an MQTT topic level (no '/', '+', '#'), and within AWS's thingName characters
-- when the device id is. A generated column: devices created before MQTT get theirs by this migration's
-- rewrite (the backfill), new ones at INSERT, with no code path that could forget it.
ALTER TABLE device_state
    ADD COLUMN thing_name text GENERATED ALWAYS AS (tenant_id || ':' || device_id) STORED;
CREATE UNIQUE INDEX device_state_thing_name_key ON device_state (thing_name);

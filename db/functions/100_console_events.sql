-- Console events (docs/live.md): what the web console shows changed. Statement-level triggers with transition
-- tables send, when (and only if) the transaction commits, at most one NOTIFY per statement and tenant on the
-- channel `iotcloud_console`, never one per row: a sweep moving a million executions sends one per batch.
-- The payload is JSON: {"tenant": tenant_id, "kind": "jobs" | "devices" | "groups", "ids": [...] or null};
-- "ids" names what changed (sorted, so that PostgreSQL folds the same notification sent twice in a
-- transaction into one), or is null when more than 32 changed, or when a statement does not say
-- (a device's update). The operator API listens (shared/console_events/) and streams them to the tenant's
-- consoles as server-sent events (GET /customer/events).
--
-- Sources:
--   jobs          every insert, update and delete of a job row (creation, a rollout's release, completion,
--                 cancel, delete, the sweeps' marks);
--   job_counters  every insert and update: each move of executions (a device's update through group commit,
--                 the worker's expiry and timeouts, cancels, retries) changes its job's counters in the
--                 same statement's transaction, so one trigger covers every execution move;
--   device_state  insert and delete; an update only of what operators change (name, attributes, status,
--                 desired state): the columns devices write on every poll or report (last_seen_at,
--                 reported_state) fire nothing, so the device path pays nothing for it;
--   device_groups and device_group_members: a group's creation, change, deletion and membership.
-- Triggers here are dropped with the schema and made again each time the functions are re-applied.

-- The notification of one tenant's changes of one kind. True, so it can sit in a select list.
CREATE FUNCTION iotcloud.console_notify(p_tenant text, p_kind text, p_ids text[], p_count bigint)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('iotcloud_console',
                      json_build_object('tenant', p_tenant, 'kind', p_kind,
                                        'ids', CASE WHEN p_count <= 32 THEN p_ids END)::text);
    RETURN true;
END
$fn$;

-- Rows of jobs and job_counters (transition table `changed`, with job_id).
CREATE FUNCTION iotcloud.console_jobs_changed()
RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM iotcloud.console_notify(c.tenant_id, 'jobs', array_agg(c.job_id ORDER BY c.job_id), count(*))
       FROM (SELECT DISTINCT t.tenant_id, t.job_id FROM changed t) c
      GROUP BY c.tenant_id;
    RETURN NULL;
END
$fn$;

-- Rows of device_state (transition table `changed`, with device_id).
CREATE FUNCTION iotcloud.console_devices_changed()
RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM iotcloud.console_notify(c.tenant_id, 'devices', array_agg(c.device_id ORDER BY c.device_id),
                                    count(*))
       FROM (SELECT DISTINCT t.tenant_id, t.device_id FROM changed t) c
      GROUP BY c.tenant_id;
    RETURN NULL;
END
$fn$;

-- An operator's update of devices (a trigger with a column list has no transition table): the devices of
-- the transaction's tenant, not named. Nothing without a tenant (the owner's maintenance).
CREATE FUNCTION iotcloud.console_devices_updated()
RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant text := nullif(current_setting('app.tenant_id', true), '');
BEGIN
    IF v_tenant IS NOT NULL THEN
        PERFORM iotcloud.console_notify(v_tenant, 'devices', NULL, NULL);
    END IF;
    RETURN NULL;
END
$fn$;

-- Rows of device_groups and device_group_members (transition table `changed`, with group_id).
CREATE FUNCTION iotcloud.console_groups_changed()
RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM iotcloud.console_notify(c.tenant_id, 'groups', array_agg(c.group_id ORDER BY c.group_id), count(*))
       FROM (SELECT DISTINCT t.tenant_id, t.group_id FROM changed t) c
      GROUP BY c.tenant_id;
    RETURN NULL;
END
$fn$;

-- A trigger with a transition table takes one event: one trigger per table and event.
CREATE TRIGGER console_jobs_inserted AFTER INSERT ON public.jobs
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_jobs_changed();
CREATE TRIGGER console_jobs_updated AFTER UPDATE ON public.jobs
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_jobs_changed();
CREATE TRIGGER console_jobs_deleted AFTER DELETE ON public.jobs
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_jobs_changed();
-- a job's counters are deleted only with the job (its own trigger says so)
CREATE TRIGGER console_counters_inserted AFTER INSERT ON public.job_counters
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_jobs_changed();
CREATE TRIGGER console_counters_updated AFTER UPDATE ON public.job_counters
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_jobs_changed();

CREATE TRIGGER console_devices_inserted AFTER INSERT ON public.device_state
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_devices_changed();
CREATE TRIGGER console_devices_deleted AFTER DELETE ON public.device_state
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_devices_changed();
CREATE TRIGGER console_devices_updated AFTER UPDATE OF name, attributes, status, desired_version
    ON public.device_state FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_devices_updated();

CREATE TRIGGER console_groups_inserted AFTER INSERT ON public.device_groups
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_groups_changed();
CREATE TRIGGER console_groups_updated AFTER UPDATE ON public.device_groups
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_groups_changed();
CREATE TRIGGER console_groups_deleted AFTER DELETE ON public.device_groups
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_groups_changed();
CREATE TRIGGER console_members_inserted AFTER INSERT ON public.device_group_members
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_groups_changed();
CREATE TRIGGER console_members_deleted AFTER DELETE ON public.device_group_members
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iotcloud.console_groups_changed();

-- the triggers run as whoever changes the rows: the runtime role calls the helper
GRANT EXECUTE ON FUNCTION iotcloud.console_notify(text, text, text[], bigint) TO iotcloud_app;

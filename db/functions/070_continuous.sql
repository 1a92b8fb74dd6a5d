-- Continuous jobs (AWS IoT Jobs' targetSelection CONTINUOUS; migration 086): devices that join the target of a
-- running continuous job get a QUEUED execution, devices that leave it have their QUEUED execution moved to
-- REMOVED, each in the transaction of the change that made them join or leave (the caller's; RLS: its tenant).
--
-- The target of a continuous job is a group (its ACTIVE members) or the fleet (every ACTIVE device). Joining:
-- added to the group; for the fleet, created. Leaving: removed from the group (or the group deleted); revoked
-- (which leaves every target: a revoked device can no longer run jobs).
--
-- Serialization with the job's creation: a membership change takes iotcloud.target_lock(target, shared) before
-- it changes anything, the creation of a continuous job takes it exclusive before its fan-out; so whichever
-- commits second reads what the first committed (READ COMMITTED: each statement after the lock has a fresh
-- snapshot), and a device joining while the job is created ends with exactly one execution either way.

-- The advisory lock of a continuous target: a group (p_group_id) or the fleet (NULL), of the current tenant.
-- Shared: a change of the target's members (many at once do not wait for each other); exclusive: the creation
-- of a continuous job on it.
CREATE FUNCTION iotcloud.target_lock(p_group_id text, p_exclusive boolean)
RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    v_key bigint := hashtextextended('iotcloud.continuous:' || current_setting('app.tenant_id') || ':'
                                     || coalesce('group:' || p_group_id, 'fleet'), 0);
BEGIN
    IF p_exclusive THEN
        PERFORM pg_advisory_xact_lock(v_key);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(v_key);
    END IF;
END
$fn$;

-- Before a revocation: the device leaves every target it is in, the fleet and its groups; their locks, shared,
-- the fleet's first, then the groups' in key order.
CREATE FUNCTION iotcloud.lock_device_targets(p_device_id text)
RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    g text;
BEGIN
    PERFORM iotcloud.target_lock(NULL, false);
    FOR g IN SELECT m.group_id FROM device_group_members m
              WHERE m.tenant_id = current_setting('app.tenant_id') AND m.device_id = p_device_id
              ORDER BY m.group_id
    LOOP
        PERFORM iotcloud.target_lock(g, false);
    END LOOP;
END
$fn$;

-- Devices p_device_ids join the target (group p_group_id, or the fleet when NULL): each running continuous job
-- of that target gets a QUEUED execution for each of them that is ACTIVE (and, for a group, a member) and has
-- none yet. Set-based: one INSERT ... SELECT for all jobs and devices, the counters upserted per shard and
-- execution_count raised in the same transaction. The jobs' rows are locked first, in key order (a cancel
-- waits, so no execution is added behind its sweep; the job's rows are not locked by device moves, which
-- never complete a continuous job), then the counter rows in key order, as iotcloud.apply_moves locks them.
-- A device that had an execution of the job (e.g. REMOVED, then re-added) keeps it: the job does not run again.
-- Returns the number of executions created.
CREATE FUNCTION iotcloud.continuous_join(p_now timestamptz, p_group_id text, p_device_ids text[])
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant text := current_setting('app.tenant_id');
    v_jobs   text[];
    v_counts iotcloud.counter_delta[];
    v_n      integer;
    v_notify text[];
    v_notify_devices text[];
BEGIN
    SELECT array_agg(x.job_id ORDER BY x.job_id) INTO v_jobs
      FROM (SELECT j.job_id FROM jobs j
             WHERE j.tenant_id = v_tenant AND j.target_selection = 'CONTINUOUS' AND j.status = 'IN_PROGRESS'
               AND (j.expires_at IS NULL OR j.expires_at > p_now) AND j.deleting_at IS NULL
               AND CASE WHEN p_group_id IS NULL THEN j.target_all ELSE j.target_group_id = p_group_id END
             ORDER BY j.job_id
               FOR NO KEY UPDATE) x;
    IF v_jobs IS NULL OR coalesce(cardinality(p_device_ids), 0) = 0 THEN
        RETURN 0;
    END IF;

    WITH dev AS (
        SELECT d.device_id FROM device_state d
         WHERE d.tenant_id = v_tenant AND d.device_id = ANY(p_device_ids) AND d.status = 'ACTIVE'
           AND (p_group_id IS NULL
                OR EXISTS (SELECT 1 FROM device_group_members m
                            WHERE m.tenant_id = v_tenant AND m.group_id = p_group_id
                              AND m.device_id = d.device_id))
           FOR SHARE OF d  -- a concurrent revocation waits, then finds these executions to remove
    ), new AS (
        SELECT j.job_id, dev.device_id, j.execution_count,
               row_number() OVER (PARTITION BY j.job_id ORDER BY dev.device_id) AS n
          FROM jobs j CROSS JOIN dev
         WHERE j.tenant_id = v_tenant AND j.job_id = ANY(v_jobs)
           AND NOT EXISTS (SELECT 1 FROM job_executions e
                            WHERE e.tenant_id = v_tenant AND e.job_id = j.job_id AND e.device_id = dev.device_id)
    ), ins AS (
        INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, shard, queued_at,
                                    last_updated_at)
        SELECT v_tenant, new.job_id, new.device_id, 'QUEUED', 1, ((new.execution_count + new.n - 1) % 16)::smallint,
               p_now, p_now
          FROM new
        ON CONFLICT DO NOTHING
        RETURNING job_id, shard, device_id
    ), per_job AS (
        SELECT ins.job_id, count(*) AS n, min(ins.device_id) AS device_id FROM ins GROUP BY ins.job_id
    )
    SELECT (SELECT array_agg(ROW(c.job_id, c.shard, c.n, 0, 0, 0, 0, 0, 0, 0)::iotcloud.counter_delta
                             ORDER BY c.job_id, c.shard)
              FROM (SELECT ins.job_id, ins.shard, count(*)::int AS n FROM ins GROUP BY ins.job_id, ins.shard) c),
           (SELECT array_agg(p.job_id ORDER BY p.job_id) FROM per_job p),
           (SELECT array_agg(CASE WHEN p.n = 1 THEN p.device_id END ORDER BY p.job_id) FROM per_job p)
      INTO v_counts, v_notify, v_notify_devices;
    IF v_counts IS NULL THEN
        RETURN 0;
    END IF;
    -- one notification per job joined (096_notify.sql), naming the device when it is the only one
    PERFORM iotcloud.notify_jobs(v_notify, v_notify_devices);

    INSERT INTO job_counters AS c (tenant_id, job_id, shard, queued)
    SELECT v_tenant, d.job_id, d.shard, d.queued FROM unnest(v_counts) d ORDER BY d.job_id, d.shard
    ON CONFLICT (tenant_id, job_id, shard) DO UPDATE SET queued = c.queued + excluded.queued;

    UPDATE jobs j SET execution_count = j.execution_count + t.n
      FROM (SELECT d.job_id, sum(d.queued)::int AS n FROM unnest(v_counts) d GROUP BY d.job_id) t
     WHERE j.tenant_id = v_tenant AND j.job_id = t.job_id;

    SELECT sum(d.queued)::int INTO v_n FROM unnest(v_counts) d;
    RETURN v_n;
END
$fn$;

-- Devices p_device_ids leave the target: group p_group_id's continuous jobs, or, when NULL, every continuous
-- job (a revoked device). Their QUEUED executions of those jobs move to REMOVED through
-- iotcloud.move_executions (actor 'operator', guard job_running: a canceled or expired job's QUEUED work is
-- its sweep's), with {"reason": p_reason}. Returns how many moved.
CREATE FUNCTION iotcloud.continuous_leave(p_now timestamptz, p_group_id text, p_device_ids text[],
                                          p_reason text)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant  text := current_setting('app.tenant_id');
    v_jobs    text[];
    v_devices text[];
    v_n       integer;
BEGIN
    SELECT array_agg(e.job_id ORDER BY e.job_id, e.device_id), array_agg(e.device_id ORDER BY e.job_id, e.device_id)
      INTO v_jobs, v_devices
      FROM job_executions e
      JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
     WHERE e.tenant_id = v_tenant AND e.device_id = ANY(p_device_ids) AND e.status = 'QUEUED'
       AND j.target_selection = 'CONTINUOUS'
       AND (p_group_id IS NULL OR j.target_group_id = p_group_id);
    v_n := coalesce(cardinality(v_jobs), 0);
    IF v_n = 0 THEN
        RETURN 0;
    END IF;
    RETURN (SELECT m.moved
              FROM iotcloud.move_executions_counted('operator', p_now, v_jobs, v_devices,
                                                    array_fill('REMOVED'::text, ARRAY[v_n]),
                                                    array_fill(jsonb_build_object('reason', p_reason), ARRAY[v_n])) m);
END
$fn$;

-- Every member of group p_group_id leaves it (the group is being deleted): continuous_leave over its members.
CREATE FUNCTION iotcloud.continuous_group_gone(p_now timestamptz, p_group_id text)
RETURNS integer
LANGUAGE sql AS $fn$
    SELECT iotcloud.continuous_leave(p_now, p_group_id,
                                     (SELECT coalesce(array_agg(m.device_id), '{}') FROM device_group_members m
                                       WHERE m.tenant_id = current_setting('app.tenant_id')
                                         AND m.group_id = p_group_id),
                                     'group_deleted')
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.target_lock(text, boolean) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.lock_device_targets(text) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.continuous_join(timestamptz, text, text[]) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.continuous_leave(timestamptz, text, text[], text) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.continuous_group_gone(timestamptz, text) TO iotcloud_app;

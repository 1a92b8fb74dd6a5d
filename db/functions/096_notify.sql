-- Job notifications (docs/jobs.md, "Notifications"): when a transaction makes a job reach devices, it sends
-- one NOTIFY on the channel `iotcloud_jobs` per job, delivered to the listeners when (and only if) it commits.
-- The payload is JSON: {"tenant": tenant_id, "device": device_id or null, "job": job_id, "at": epoch seconds
-- when it was sent}; "device" is null when several devices of the tenant may have been reached; "at" gives the
-- listeners' notify latency metric. The device API's long-poll (shared/jobs/notify.py and
-- ingest_iot/waiters.py) and the MQTT gateway listen to it. The channel and the payload are built here only.
--
-- Emitted by: a job's creation (shared/jobs/service.py), the start of a scheduled job that reaches devices
-- (060_rollouts.sql), a rollout's release (shared/jobs/queries.py RELEASE), a retry (020_moves.sql, step 3b),
-- devices joining a continuous job (070_continuous.sql). One per job and statement, never per execution.

-- One notification: job p_job_id reached device p_device_id (NULL: possibly several devices) of the current
-- tenant. True, so it can sit in a select list.
CREATE FUNCTION iotcloud.notify_job(p_job_id text, p_device_id text)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('iotcloud_jobs',
                      json_build_object('tenant', current_setting('app.tenant_id'), 'device', p_device_id,
                                        'job', p_job_id,
                                        'at', extract(epoch FROM clock_timestamp()))::text);
    RETURN true;
END
$fn$;

-- The same for several jobs (p_device_ids in the same order, NULL or shorter: NULL devices). Returns how many.
CREATE FUNCTION iotcloud.notify_jobs(p_job_ids text[], p_device_ids text[])
RETURNS integer
LANGUAGE sql AS $fn$
    SELECT count(iotcloud.notify_job(n.job_id, n.device_id))::int
      FROM unnest(coalesce(p_job_ids, '{}'::text[]), coalesce(p_device_ids, '{}'::text[])) AS n(job_id, device_id)
     WHERE n.job_id IS NOT NULL
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.notify_job(text, text) TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.notify_jobs(text[], text[]) TO iotcloud_app;

-- A job may target a selection of devices (docs/jobs.md, "Targeting a selection of devices"): a list of device
-- ids, or every device matching the devices list's filters (search text, status), resolved in the creating
-- transaction. Its executions are the selection; target_devices records how it was given: {"device_count": n}
-- for a list, {"matching": {"q": ..., "status": ...}} for a filter. Such a job is a snapshot (never continuous).
ALTER TABLE jobs
    ADD COLUMN target_devices jsonb
        CONSTRAINT jobs_target_devices_check CHECK (target_devices IS NULL OR jsonb_typeof(target_devices) = 'object'),
    DROP CONSTRAINT jobs_one_target,
    ADD CONSTRAINT jobs_one_target CHECK (
        (target_device_id IS NOT NULL)::int + (target_group_id IS NOT NULL)::int + target_all::int
        + (target_devices IS NOT NULL)::int = 1),
    DROP CONSTRAINT jobs_continuous_target_check,
    ADD CONSTRAINT jobs_continuous_target_check
        CHECK (target_selection = 'SNAPSHOT' OR (target_device_id IS NULL AND target_devices IS NULL));

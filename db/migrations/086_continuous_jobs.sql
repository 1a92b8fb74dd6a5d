-- Continuous jobs (AWS IoT Jobs' targetSelection CONTINUOUS): a job on a group or on the whole fleet that
-- keeps applying to devices that join its target later. A device added to the group (for the fleet: a device
-- created) gets a QUEUED execution in the transaction of that change; a device that leaves the target (removed
-- from the group, or revoked) has its QUEUED execution moved to REMOVED. A continuous job never completes on
-- its own: it stays IN_PROGRESS until canceled (db/functions/020_moves.sql, 070_continuous.sql).
ALTER TABLE jobs
    ADD COLUMN target_selection text NOT NULL DEFAULT 'SNAPSHOT'
        CONSTRAINT jobs_target_selection_check CHECK (target_selection IN ('SNAPSHOT', 'CONTINUOUS')),
    ADD CONSTRAINT jobs_continuous_target_check
        CHECK (target_selection = 'SNAPSHOT' OR target_device_id IS NULL);

-- A membership change finds the running continuous jobs of its group (or of the fleet) through this index.
CREATE INDEX jobs_continuous_idx ON jobs (tenant_id, target_group_id, job_id)
    WHERE target_selection = 'CONTINUOUS' AND status = 'IN_PROGRESS';

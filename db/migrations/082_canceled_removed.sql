-- Execution statuses CANCELED and REMOVED (AWS IoT Jobs' meanings): CANCELED, an operator canceled the
-- execution (QUEUED, or IN_PROGRESS with force); REMOVED, defined for continuous jobs (a device left the
-- target group), which no move reaches yet. Both are terminal, each has a counter column on the job.
-- The started_at CHECK (081) needs no change: a CANCELED execution may or may not have started, and REMOVED
-- is not constrained either (its ELSE branch).
ALTER TABLE job_executions DROP CONSTRAINT job_executions_status_check,
    ADD CONSTRAINT job_executions_status_check CHECK (status IN (
        'QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'CANCELED', 'REMOVED'));
ALTER TABLE job_execution_events DROP CONSTRAINT job_execution_events_from_check,
    ADD CONSTRAINT job_execution_events_from_check CHECK (from_status IN (
        'QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'CANCELED', 'REMOVED')),
    DROP CONSTRAINT job_execution_events_to_check,
    ADD CONSTRAINT job_execution_events_to_check CHECK (to_status IN (
        'QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'CANCELED', 'REMOVED'));
ALTER TABLE job_counters
    ADD COLUMN canceled integer NOT NULL DEFAULT 0 CONSTRAINT job_counters_canceled_check CHECK (canceled >= 0),
    ADD COLUMN removed  integer NOT NULL DEFAULT 0 CONSTRAINT job_counters_removed_check CHECK (removed >= 0);

-- Which kind of cancel a CANCELED job had, so its sweep (and the jobs tick finishing it) picks the target:
--   reject  DELETE /customer/jobs/{id} (the seed contract): QUEUED -> REJECTED
--   cancel  POST /customer/jobs/{id}/cancel (AWS CancelJob): QUEUED -> CANCELED
--   force   the same with force: QUEUED and IN_PROGRESS -> CANCELED
-- and the reason code of AWS CancelJob (cancel_reason holds its comment).
ALTER TABLE jobs
    ADD COLUMN cancel_mode text CONSTRAINT jobs_cancel_mode_check CHECK (cancel_mode IN ('reject', 'cancel', 'force')),
    ADD COLUMN cancel_reason_code text
        CONSTRAINT jobs_cancel_reason_code_check CHECK (char_length(cancel_reason_code) BETWEEN 1 AND 128);
UPDATE jobs SET cancel_mode = 'reject' WHERE status = 'CANCELED';
ALTER TABLE jobs
    ADD CONSTRAINT jobs_cancel_mode_status_check CHECK ((cancel_mode IS NOT NULL) = (status = 'CANCELED'));

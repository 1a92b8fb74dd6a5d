-- Safe rollouts (AWS IoT Jobs' jobExecutionsRolloutConfig, abortConfig, jobExecutionsRetryConfig,
-- schedulingConfig) and the step timeout. The configs are kept as given (normalized) on the job; what the
-- worker and the move primitive read per row is kept in columns beside them.
--
-- Rollout. Every fan-out numbers its executions (rollout_rank 1..n, the fan-out order; `ranked` = n on the
-- job); a device sees its execution, and may start it, only once the job's released_upto has reached its
-- rank. A job without a rollout or a schedule is created with released_upto = ranked (every device reached at
-- once, as before); for the others the worker raises it, one UPDATE of the job row per tick whatever the
-- rate. An execution without a rank (NULL) is reached as soon as it exists.

ALTER TABLE jobs DROP CONSTRAINT jobs_status_check,
    ADD CONSTRAINT jobs_status_check CHECK (status IN ('SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELED'));

ALTER TABLE jobs
    ADD COLUMN rollout_config    jsonb CONSTRAINT jobs_rollout_config_check CHECK (jsonb_typeof(rollout_config) = 'object'),
    ADD COLUMN abort_config      jsonb CONSTRAINT jobs_abort_config_check CHECK (jsonb_typeof(abort_config) = 'object'),
    ADD COLUMN retry_config      jsonb CONSTRAINT jobs_retry_config_check CHECK (jsonb_typeof(retry_config) = 'object'),
    ADD COLUMN scheduling_config jsonb
        CONSTRAINT jobs_scheduling_config_check CHECK (jsonb_typeof(scheduling_config) = 'object'),
    -- retries allowed per failure type (from retry_config; ALL sets both)
    ADD COLUMN retry_failed      smallint CONSTRAINT jobs_retry_failed_check CHECK (retry_failed BETWEEN 0 AND 10),
    ADD COLUMN retry_timed_out   smallint CONSTRAINT jobs_retry_timed_out_check CHECK (retry_timed_out BETWEEN 0 AND 10),
    -- the schedule (from scheduling_config)
    ADD COLUMN start_at          timestamptz,
    ADD COLUMN end_at            timestamptz,
    ADD COLUMN end_behavior      text
        CONSTRAINT jobs_end_behavior_check CHECK (end_behavior IN ('STOP_ROLLOUT', 'CANCEL', 'FORCE_CANCEL')),
    ADD COLUMN end_applied_at    timestamptz,
    -- the rollout's progress: executions ranked, reached so far, the current rate and its minute window
    ADD COLUMN ranked            integer NOT NULL DEFAULT 0 CONSTRAINT jobs_ranked_check CHECK (ranked >= 0),
    ADD COLUMN released_upto     integer NOT NULL DEFAULT 0
        CONSTRAINT jobs_released_upto_check CHECK (released_upto BETWEEN 0 AND ranked),
    ADD COLUMN rollout_rate      integer CONSTRAINT jobs_rollout_rate_check CHECK (rollout_rate BETWEEN 1 AND 1000000),
    ADD COLUMN rollout_next_step integer,
    ADD COLUMN rollout_window_at timestamptz,
    ADD COLUMN rollout_window_count integer NOT NULL DEFAULT 0
        CONSTRAINT jobs_rollout_window_count_check CHECK (rollout_window_count >= 0),
    ADD COLUMN rollout_stopped_at timestamptz,
    -- the rollout's progress over time: [[at, reached], ...] appended by each release (the last 1000)
    ADD COLUMN rollout_log       jsonb NOT NULL DEFAULT '[]',
    -- why the worker aborted the job (the criterion met and the counts it saw)
    ADD COLUMN abort_state       jsonb,
    ADD CONSTRAINT jobs_schedule_check CHECK (end_at IS NULL OR start_at IS NULL OR end_at > start_at),
    ADD CONSTRAINT jobs_end_behavior_needs_end_check CHECK (end_behavior IS NULL OR end_at IS NOT NULL),
    ADD CONSTRAINT jobs_scheduled_check CHECK (status <> 'SCHEDULED' OR start_at IS NOT NULL),
    ADD CONSTRAINT jobs_aborted_check CHECK (abort_state IS NULL OR status = 'CANCELED');

ALTER TABLE job_executions
    ADD COLUMN rollout_rank  integer CONSTRAINT job_executions_rollout_rank_check CHECK (rollout_rank >= 1),
    ADD COLUMN retry_attempt smallint NOT NULL DEFAULT 0
        CONSTRAINT job_executions_retry_attempt_check CHECK (retry_attempt BETWEEN 0 AND 10);

-- The worker's rollout tick reads only jobs with something to do: scheduled ones, rollouts still reaching
-- devices, schedules with an end not yet applied, and running jobs with abort criteria.
CREATE INDEX jobs_rollout_idx ON jobs (tenant_id)
    WHERE status = 'SCHEDULED'
       OR (status = 'IN_PROGRESS' AND (released_upto < ranked OR abort_config IS NOT NULL
                                       OR (end_at IS NOT NULL AND end_applied_at IS NULL)));

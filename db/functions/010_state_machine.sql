-- The execution state machine: every move an actor may make, and the guard it needs beyond the
-- from-status. This is its one definition: iotcloud.move_executions (020_moves.sql) allows exactly these moves,
-- Python and the frontend take only the status names (shared/jobs/states.py, checked against the CHECK
-- constraints and this list by tests/integration/test_state_machine.py), and the invariant checker reads
-- every recorded move against it.
--
-- Guards:
--   job_running   the job is IN_PROGRESS and not past expires_at, and its rollout has reached the execution
--                 (a device may start or reject new work)
--   in_time       the execution is not past its in-progress deadline (timeout_at)
--   job_expired   the job is IN_PROGRESS and past expires_at (the worker's expiry)
--   overdue       the execution is past its deadline (the worker's in-progress or step timeout)
--   job_canceled  the job is CANCELED (its QUEUED work is rejected, or canceled)
--   withdrawn     the job is CANCELED, or its rollout stopped (schedule end, STOP_ROLLOUT) before reaching
--                 the execution
--   retry         the job is running (as job_running) and the execution has retries left for its failure
--                 type (retry_config: retry_attempt below the job's number_of_retries); the primitive makes
--                 this move itself, in the transaction of the move to FAILED or TIMED_OUT
--   requested     always holds: the operator's explicit cancel (of the job, or of this one execution)
--   forced        the call is forced (move_executions' p_force: a cancel with force, of the job or of the
--                 execution; the worker finishing a forced cancel's sweep passes it from the job)
-- QUEUED -> REMOVED (job_running): a device left the target of a continuous job (removed from its group, or
-- revoked: db/functions/070_continuous.sql), in the operator's transaction. Only while the job runs: the
-- QUEUED work of a canceled or expired job belongs to its sweep. IN_PROGRESS work stays (the device may finish).
-- An IN_PROGRESS -> IN_PROGRESS move is a progress update.
CREATE FUNCTION iotcloud.execution_moves()
RETURNS TABLE (actor text, from_status text, to_status text, guard text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    VALUES ('device',   'QUEUED',      'IN_PROGRESS', 'job_running'),
           ('device',   'QUEUED',      'REJECTED',    'job_running'),
           ('device',   'IN_PROGRESS', 'IN_PROGRESS', 'in_time'),
           ('device',   'IN_PROGRESS', 'SUCCEEDED',   'in_time'),
           ('device',   'IN_PROGRESS', 'FAILED',      'in_time'),
           ('device',   'IN_PROGRESS', 'REJECTED',    'in_time'),
           ('operator', 'QUEUED',      'REJECTED',    'job_canceled'),
           ('operator', 'QUEUED',      'CANCELED',    'requested'),
           ('operator', 'IN_PROGRESS', 'CANCELED',    'forced'),
           ('operator', 'QUEUED',      'REMOVED',     'job_running'),   -- left a continuous job's target
           ('worker',   'QUEUED',      'REJECTED',    'job_canceled'),  -- finishing a cancel's sweep
           ('worker',   'QUEUED',      'CANCELED',    'withdrawn'),     -- the same, for CancelJob; a stopped rollout
           ('worker',   'IN_PROGRESS', 'CANCELED',    'forced'),        -- the same, with force
           ('worker',   'QUEUED',      'TIMED_OUT',   'job_expired'),
           ('worker',   'IN_PROGRESS', 'TIMED_OUT',   'overdue'),
           ('worker',   'FAILED',      'QUEUED',      'retry'),
           ('worker',   'TIMED_OUT',   'QUEUED',      'retry')
$fn$;

-- The same list as one constant for lookups per row: {"actor:FROM>TO": guard}. IMMUTABLE and without
-- arguments, so the planner folds it into the plan once; iotcloud.move_guard looks a move up in it.
CREATE FUNCTION iotcloud.moves_map()
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT jsonb_object_agg(m.actor || ':' || m.from_status || '>' || m.to_status, m.guard)
      FROM iotcloud.execution_moves() m
$fn$;

-- The guard of a move, or NULL when the actor may not make it at all (inlined where it is called).
CREATE FUNCTION iotcloud.move_guard(p_actor text, p_from text, p_to text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT iotcloud.moves_map() ->> (p_actor || ':' || p_from || '>' || p_to)
$fn$;

GRANT EXECUTE ON FUNCTION iotcloud.execution_moves() TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.moves_map() TO iotcloud_app;
GRANT EXECUTE ON FUNCTION iotcloud.move_guard(text, text, text) TO iotcloud_app;

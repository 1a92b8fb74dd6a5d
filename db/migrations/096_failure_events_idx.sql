-- The dashboard's failures of the last hour (services/shared/dashboard.py): a tenant's execution history
-- rows that moved to FAILED, TIMED_OUT or REJECTED, by time. Partial, so only failure rows pay for it:
-- the history's other moves (the bulk of its writes, see 079) add no index entry.
CREATE INDEX job_execution_events_failures_idx ON job_execution_events (tenant_id, at)
    WHERE to_status IN ('FAILED', 'TIMED_OUT', 'REJECTED');

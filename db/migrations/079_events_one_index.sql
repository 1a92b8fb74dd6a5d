-- job_execution_events: one index instead of two. The history is read per execution in event order,
-- which is what the lookup index served; as the primary key it still identifies each event (event_id
-- alone is unique), and each history row now costs one index entry, not two. Bulk moves (expiry of a
-- fleet-sized job, cancel) write one event per execution, so this is a large part of their cost beyond
-- the UPDATE itself.
ALTER TABLE job_execution_events
    DROP CONSTRAINT job_execution_events_pkey,
    ADD CONSTRAINT job_execution_events_pkey PRIMARY KEY (tenant_id, job_id, device_id, event_id);
DROP INDEX job_execution_events_execution_idx;

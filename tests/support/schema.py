"""The tables that hold tenant data (each has tenant_id and an RLS policy; test_schema.py checks both)."""

TENANT_TABLES = (
    "tenants",
    "users",
    "device_state",
    "device_groups",
    "device_group_members",
    "jobs",
    "job_executions",
    "job_counters",
    "job_execution_events",
)

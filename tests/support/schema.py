"""What the database schema is meant to hold, listed by hand: tests compare the catalog against it."""

# The tables that hold tenant data (each has tenant_id and an RLS policy; test_schema.py checks both).
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

# Every SECURITY DEFINER function (they run as the owner, past RLS: the only ways across tenants) and the
# roles besides their owner that may execute them. PUBLIC may execute none (test_db_grants.py checks both).
SECURITY_DEFINER_FUNCTIONS: dict[str, frozenset[str]] = {
    "iotcloud.device_auth(text,integer,timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.devices_auth(text[],integer,timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.login_lookup(text)": frozenset({"iotcloud_app"}),
    "iotcloud.login_attempt(text,text,timestamp with time zone,integer,integer,integer)": frozenset(
        {"iotcloud_app"}
    ),
    "iotcloud.login_release(text,text,boolean,integer,integer)": frozenset({"iotcloud_app"}),
    "iotcloud.tenants_to_sweep(timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.tenants_with_overdue_executions(timestamp with time zone)": frozenset({"iotcloud_app"}),
    # retention (db/functions/090_retention.sql): each purges only what a tenant's retention makes due
    "iotcloud.retention_work(timestamp with time zone,integer)": frozenset({"iotcloud_app"}),
    "iotcloud.purge_history(text,text,timestamp with time zone,text,bigint,integer)": frozenset(
        {"iotcloud_app"}
    ),
    "iotcloud.purge_executions(text,text,timestamp with time zone,text,integer)": frozenset({"iotcloud_app"}),
    "iotcloud.purge_job(text,text,timestamp with time zone)": frozenset({"iotcloud_app"}),
}

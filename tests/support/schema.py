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
    "job_failure_minutes",
    "artifacts",
    "job_templates",
    "audit_log",
    "aws_access_keys",
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
    "iotcloud.device_rate_hit(text,integer,integer,integer,timestamp with time zone)": frozenset(
        {"iotcloud_app"}
    ),
    "iotcloud.user_rate_hit(text,integer,integer,timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.auth_failure(text,integer,integer,timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.tenants_to_sweep(timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.tenants_with_overdue_executions(timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.tenants_with_rollout_work()": frozenset({"iotcloud_app"}),
    "iotcloud.jobs_by_status()": frozenset({"iotcloud_app"}),
    "iotcloud.jobs_tick_backlog(timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.migration_applied(text)": frozenset({"iotcloud_app"}),
    # deletes only the history of executions that no longer exist, of the caller's tenant (065_lifecycle.sql)
    "iotcloud.delete_history(text,text[])": frozenset({"iotcloud_app"}),
    "iotcloud.tenants_deleting_jobs()": frozenset({"iotcloud_app"}),
    # retention (db/functions/090_retention.sql): each purges only what a tenant's retention makes due
    "iotcloud.retention_work(timestamp with time zone,integer)": frozenset({"iotcloud_app"}),
    "iotcloud.purge_history(text,text,timestamp with time zone,text,bigint,integer)": frozenset(
        {"iotcloud_app"}
    ),
    "iotcloud.purge_executions(text,text,timestamp with time zone,text,integer)": frozenset({"iotcloud_app"}),
    "iotcloud.purge_job(text,text,timestamp with time zone)": frozenset({"iotcloud_app"}),
    # the dashboard's failure counts by minute older than a day, of every tenant (090_retention.sql)
    "iotcloud.purge_failure_minutes(timestamp with time zone,integer)": frozenset({"iotcloud_app"}),
    # the MQTT gateway (db/functions/095_mqtt.sql): by thing name and token hash, or connected devices' hashes
    "iotcloud.mqtt_auth(text,text,integer,timestamp with time zone)": frozenset({"iotcloud_app"}),
    "iotcloud.mqtt_live(text[])": frozenset({"iotcloud_app"}),
    "iotcloud.mqtt_pending(text[],timestamp with time zone,integer)": frozenset({"iotcloud_app"}),
    # SigV4 (db/functions/097_aws.sql): the credential of an access key id (an operator key or a thing name)
    "iotcloud.aws_credential(text)": frozenset({"iotcloud_app"}),
}

# What the runtime role may do to each table (test_db_grants.py compares it with the catalog); a table not
# listed: nothing. History and the audit log are append-only; job templates are created and deleted, never
# changed; job rows are deleted (DeleteJob, DeleteJobExecution), their history only through
# iotcloud.delete_history.
_ALL = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
RUNTIME_TABLE_PRIVILEGES: dict[str, frozenset[str]] = {
    "tenants": frozenset({"SELECT"}),
    "users": _ALL,
    "device_state": _ALL,
    "device_groups": _ALL,
    "device_group_members": _ALL,
    "jobs": _ALL,
    "job_executions": _ALL,
    "job_counters": _ALL,
    "job_execution_events": frozenset({"SELECT", "INSERT"}),
    "job_failure_minutes": frozenset({"SELECT", "INSERT", "UPDATE"}),
    "job_templates": frozenset({"SELECT", "INSERT", "DELETE"}),
    "audit_log": frozenset({"SELECT", "INSERT"}),
    "artifacts": _ALL,
    "aws_access_keys": frozenset({"SELECT", "INSERT", "UPDATE"}),
}

"""Every Prometheus metric of iotcloud, defined once (docs/operations.md lists them; the Grafana dashboard
and the alert rules under deploy/ use these names, and tests/unit/test_observability_deploy.py checks that
they name nothing else). Metrics are recorded by hooks: the HTTP middleware (shared/observability/
middleware.py), group commit, the device poll, the one-execution move answer, the worker loop; the pool
and database gauges are collected when Prometheus scrapes (shared/observability/exporter.py).

One registry per process (prometheus_client's default). Each process serves its own on its own port
(IOTCLOUD_METRICS_PORT), and Prometheus tells replicas apart by the `instance` label of the target it
scraped; `service` says which of the services of that process (ui, device, worker) a series belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

PREFIX = "iotcloud_"

# Latency buckets (seconds) for HTTP requests: the device API's hot calls take milliseconds, an operator's
# job creation over a large group can take seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TICK_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

HTTP_REQUESTS = Counter(
    "iotcloud_http_requests",
    "HTTP requests answered, by service, method, route template (never the raw path) and status code",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "iotcloud_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by service, method and route template",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "iotcloud_http_requests_in_flight", "Requests being served now, by service", ["service"]
)
DEVICE_CALLS = Counter(
    "iotcloud_device_calls",
    "Device API job calls by call (poll, update, start-next) and outcome: poll -> jobs, empty, unauthorized; "
    "update -> moved, unchanged, a refusal reason (version_mismatch, not_allowed, job_expired, ...), "
    "not_found, unauthorized; start-next -> moved, unchanged, none, unauthorized or a refusal reason",
    ["call", "outcome"],
)
EXECUTION_TRANSITIONS = Counter(
    "iotcloud_execution_transitions",
    "Executions moved one at a time (a device's update, an operator's cancel of one execution), "
    "by actor and from/to status",
    ["actor", "from_status", "to_status"],
)
MQTT_CONNECTIONS = Gauge(
    "iotcloud_mqtt_connections", "Devices connected to this MQTT gateway process now (services/mqtt_gateway)"
)
MQTT_REQUESTS = Counter(
    "iotcloud_mqtt_requests",
    "AWS IoT Jobs requests answered over MQTT, by api (get, start-next, describe, update, invalid) and "
    "outcome (accepted, or the AWS error code of the rejection)",
    ["api", "outcome"],
)
MQTT_CONNECTS = Counter(
    "iotcloud_mqtt_connects",
    "MQTT CONNECTs by outcome: accepted, refused (bad or revoked credentials), rate_limited (an address past "
    "its bad-token limit), unavailable (database)",
    ["outcome"],
)
GROUP_COMMIT_BATCH = Histogram(
    "iotcloud_group_commit_batch_size",
    "Device updates decided by one group-commit statement",
    buckets=BATCH_BUCKETS,
)
JOBS = Gauge(
    "iotcloud_jobs",
    "Jobs by status, all tenants (read by worker processes when scraped)",
    ["status"],
)
TICK_RUNS = Counter(
    "iotcloud_tick_runs",
    "Worker tick runs by tick and result: ran, skipped (another worker held its lock), failed",
    ["tick", "result"],
)
TICK_DURATION = Histogram(
    "iotcloud_tick_duration_seconds",
    "Duration of the tick runs that this worker ran (lock held)",
    ["tick"],
    buckets=TICK_BUCKETS,
)
TICK_ROWS_MOVED = Counter(
    "iotcloud_tick_rows_moved",
    "Executions moved by the worker's bulk moves, by tick and target status",
    ["tick", "to_status"],
)
TICK_LAST_ROWS_MOVED = Gauge(
    "iotcloud_tick_last_rows_moved", "Executions moved by the tick's last run (all targets)", ["tick"]
)
TICK_BACKLOG = Gauge(
    "iotcloud_tick_backlog",
    "Work still due at the end of the tick's last run, by kind (jobs_to_sweep, overdue_executions): "
    "above zero run after run, the tick is falling behind",
    ["tick", "kind"],
)
TICK_INTERVAL = Gauge("iotcloud_tick_interval_seconds", "The tick's configured interval", ["tick"])
TICK_LAST_SUCCESS = Gauge(
    "iotcloud_tick_last_success_timestamp_seconds",
    "Unix time of the end of the tick's last successful run, by this worker or another one (a worker that "
    "skipped because another held the lock counts the other's run as done)",
    ["tick"],
)
DB_UP = Gauge(
    "iotcloud_db_up", "1 when the service's pool reached PostgreSQL at the last scrape, else 0", ["service"]
)
DB_UNAVAILABLE = Counter(
    "iotcloud_db_unavailable_errors",
    "Requests answered 503 because PostgreSQL could not be reached",
    ["service"],
)
POOL_SIZE = Gauge("iotcloud_db_pool_connections", "Open connections of the pool", ["service"])
POOL_IN_USE = Gauge("iotcloud_db_pool_in_use", "Connections of the pool acquired now", ["service"])
POOL_WAITING = Gauge(
    "iotcloud_db_pool_waiting", "Callers waiting for a connection of the pool (all acquired)", ["service"]
)
POOL_MAX = Gauge("iotcloud_db_pool_max", "The pool's maximum size", ["service"])
LONG_POLLS_WAITING = Gauge("iotcloud_long_polls_waiting", "Device polls (?wait=N) waiting for work now")
LONG_POLLS_REFUSED = Counter(
    "iotcloud_long_polls_refused",
    "Device polls that would have waited, refused with 503 at the waiters' limit",
)
JOBS_LISTENERS_CONNECTED = Gauge(
    "iotcloud_jobs_listeners_connected",
    "Connections listening to the jobs channel (one per device-API process)",
)
JOB_NOTIFICATIONS = Counter("iotcloud_job_notifications", "Notifications received on the jobs channel")
CONSOLE_LISTENERS_CONNECTED = Gauge(
    "iotcloud_console_listeners_connected",
    "Connections listening to the console channel (one per operator-API process)",
)
CONSOLE_STREAMS = Gauge("iotcloud_console_streams", "Consoles' event streams (GET /customer/events) open now")
CONSOLE_STREAMS_DROPPED = Counter(
    "iotcloud_console_streams_dropped",
    "Console event streams ended because the client read too slowly (its queue of events was full)",
)
NOTIFY_LATENCY = Histogram(
    "iotcloud_notify_latency_seconds",
    "From the statement that sends a job notification (its commit included) to a listener's receipt",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def metric_names(registry: Any = REGISTRY) -> set[str]:
    """Every sample name the registry can expose (counters with _total and _created, histograms with
    _bucket, _sum and _count), for the check that the dashboard and alert rules name only real series."""
    names: set[str] = set()
    for family in registry.collect():
        names.add(family.name)
        for sample in family.samples:
            names.add(sample.name)
        if family.type == "counter":
            names |= {family.name + "_total", family.name + "_created"}
        elif family.type == "histogram":
            names |= {family.name + s for s in ("_bucket", "_sum", "_count", "_created")}
    return names


# the labelled children, looked up once (few: calls x outcomes)
_DEVICE_CALLS: dict[tuple[str, str], Any] = {}


def count_device_outcomes(call: str, outcomes: Iterable[str]) -> None:
    for outcome in outcomes:
        child = _DEVICE_CALLS.get((call, outcome))
        if child is None:
            child = _DEVICE_CALLS[(call, outcome)] = DEVICE_CALLS.labels(call, outcome)
        child.inc()


def count_transition(actor: str, row: Mapping[str, Any] | Any) -> None:
    """One execution's move result (a row of iotcloud.move_result): counted when it moved."""
    if row["outcome"] == "moved":
        EXECUTION_TRANSITIONS.labels(actor, row["from_status"] or "NONE", row["status"]).inc()

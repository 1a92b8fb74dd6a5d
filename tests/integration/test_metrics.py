"""Prometheus metrics: the real /metrics endpoint of a live process, scraped over HTTP and parsed with
prometheus_client's own parser, moves by exactly what real requests, device calls and a worker tick did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ops_worker.ticks import default_ticks
from ops_worker.worker import run_tick_locked
from shared.infra.db import create_pool
from shared.observability.exporter import EXPORTER, pool_stats
from tests.conftest import Services, Tenant
from tests.support.servers import LiveServer

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def metrics_url(services: Services, app_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """The process's metrics endpoint, as `iotcloud serve` runs it (its own port), with the session pool
    watched as a worker's (jobs by status)."""
    EXPORTER.watch_pool("worker", app_pool, jobs=True)
    server = await LiveServer(EXPORTER).start()
    try:
        yield f"{server.url}/metrics"
    finally:
        await server.stop()
        EXPORTER.forget_pool("worker", app_pool)


async def scrape(url: str) -> tuple[Samples, str]:
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, r.text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_counters_move_with_real_requests(services: Services, tenant: Tenant, metrics_url: str) -> None:
    [dev] = await tenant.create_devices(1)
    before, _ = await scrape(metrics_url)
    job_route = {"service": "ui", "method": "GET", "route": "/customer/jobs/{job_id}"}
    update_route = {"service": "device", "method": "PUT", "route": "/device/v1/jobs/{job_id}/execution"}
    transition = {"actor": "device", "from_status": "QUEUED", "to_status": "IN_PROGRESS"}

    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "reboot", "target_device_id": dev})
        assert r.status_code == 201, r.text
        job_id = r.json()["job_id"]
        for _ in range(3):
            assert (await api.get(f"/customer/jobs/{job_id}")).status_code == 200
        assert (await api.get("/customer/jobs/no-such-job")).status_code == 404
    async with tenant.device_api(dev) as d:
        assert len((await d.get("/device/v1/jobs/pending")).json()["jobs"]) == 1
        r = await d.put(f"/device/v1/jobs/{job_id}/execution", json={"status": "IN_PROGRESS"})
        assert r.status_code == 200, r.text
        r = await d.put(
            f"/device/v1/jobs/{job_id}/execution",
            json={"status": "SUCCEEDED", "expected_execution_number": 1},
        )
        assert r.status_code == 409 and r.json()["reason"] == "version_mismatch"
    async with httpx.AsyncClient(base_url=services.device.url) as anon:
        assert (
            await anon.get("/device/v1/jobs/pending", headers={"X-Provision-Token": "x" * 40})
        ).status_code == 401

    after, text = await scrape(metrics_url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("iotcloud_http_requests_total", **job_route, status="200") == 3
    assert delta("iotcloud_http_requests_total", **job_route, status="404") == 1
    assert delta("iotcloud_http_request_duration_seconds_count", **job_route) == 4
    assert delta("iotcloud_http_requests_total", **update_route, status="200") == 1
    assert delta("iotcloud_http_requests_total", **update_route, status="409") == 1
    assert delta("iotcloud_device_calls_total", call="poll", outcome="jobs") == 1
    assert delta("iotcloud_device_calls_total", call="poll", outcome="unauthorized") == 1
    assert delta("iotcloud_device_calls_total", call="update", outcome="moved") == 1
    assert delta("iotcloud_device_calls_total", call="update", outcome="version_mismatch") == 1
    assert delta("iotcloud_execution_transitions_total", **transition) == 1
    assert delta("iotcloud_group_commit_batch_size_count") == 2
    # route templates only: the job's id and the raw paths never become a label
    assert job_id not in text and "no-such-job" not in text
    # read on scrape: pools of both APIs and the worker's, the database up, jobs by status
    for service in ("ui", "device", "worker"):
        assert value(after, "iotcloud_db_up", service=service) == 1
        assert value(after, "iotcloud_db_pool_max", service=service) >= 1
        assert value(after, "iotcloud_db_pool_connections", service=service) >= 1
    assert value(after, "iotcloud_jobs", status="IN_PROGRESS") >= 1


async def test_metrics_are_not_served_on_the_api_ports(services: Services) -> None:
    async with httpx.AsyncClient(timeout=10) as c:
        r = await c.get(f"{services.device.url}/metrics")
        assert r.status_code == 404 and "iotcloud_http" not in r.text
        r = await c.get(f"{services.ui.url}/metrics")  # the console's page (a SPA route) when it is built
        assert "iotcloud_http" not in r.text and not r.headers["content-type"].startswith("text/plain")


async def test_a_tick_reports_rows_moved_backlog_and_duration(
    tenant: Tenant, app_pool: asyncpg.Pool, metrics_url: str
) -> None:
    devices = await tenant.create_devices(3)
    async with tenant.api() as api:
        for dev in devices:
            r = await api.post(
                "/customer/jobs",
                json={"document_type": "reboot", "target_device_id": dev, "expires_in_hours": 1},
            )
            assert r.status_code == 201, r.text
    tick = next(t for t in default_ticks(7) if t.name == "jobs_expiry")
    before, _ = await scrape(metrics_url)
    later = datetime.now(UTC) + timedelta(hours=2)
    assert await run_tick_locked(app_pool, tick, later)
    after, _ = await scrape(metrics_url)
    name = tick.name
    moved = value(after, "iotcloud_tick_rows_moved_total", tick=name, to_status="TIMED_OUT") - value(
        before, "iotcloud_tick_rows_moved_total", tick=name, to_status="TIMED_OUT"
    )
    assert moved >= 3  # ours; jobs of other tests expired by `later` time out too
    assert value(after, "iotcloud_tick_last_rows_moved", tick=name) == moved
    assert value(after, "iotcloud_tick_backlog", tick=name, kind="jobs_to_sweep") == 0
    assert value(after, "iotcloud_tick_backlog", tick=name, kind="overdue_executions") == 0
    runs = ("iotcloud_tick_runs_total", {"tick": name, "result": "ran"})
    assert value(after, runs[0], **runs[1]) - value(before, runs[0], **runs[1]) == 1
    assert value(after, "iotcloud_tick_duration_seconds_count", tick=name) >= 1
    assert value(after, "iotcloud_tick_last_success_timestamp_seconds", tick=name) > 0


async def test_pool_in_use_and_waiting(services: Services) -> None:
    pool = await create_pool(services.db.app_url, min_size=0, max_size=1)
    try:
        assert pool_stats(pool) == (0, 0, 0, 1)
        async with pool.acquire():
            waiter = asyncio.create_task(pool.fetchval("SELECT 1"))
            await asyncio.sleep(0.05)
            assert pool_stats(pool) == (1, 1, 1, 1)
        assert await waiter == 1
        assert pool_stats(pool) == (1, 0, 0, 1)
    finally:
        await pool.close()


async def test_random_paths_and_methods_do_not_grow_the_series(services: Services, metrics_url: str) -> None:
    before, _ = await scrape(metrics_url)
    async with httpx.AsyncClient(base_url=services.device.url, timeout=30) as c:
        for i, method in enumerate(("PROPFIND", "MKCOL", "LOCK", "UNLOCK", "COPY")):  # WebDAV's, not HTTP's
            assert (await c.get(f"/scan-{i}/x")).status_code == 404
            assert (await c.request(method, "/device/v1/jobs/pending")).status_code == 405
    after, text = await scrape(metrics_url)
    assert "scan-" not in text and "PROPFIND" not in text
    unmatched = {"service": "device", "method": "GET", "route": "<unmatched>", "status": "404"}
    assert (
        value(after, "iotcloud_http_requests_total", **unmatched)
        - value(before, "iotcloud_http_requests_total", **unmatched)
        == 5
    )
    other = [k for k in after if k[0] == "iotcloud_http_requests_total" and ("method", "OTHER") in k[1]]
    assert sum(after[k] - before.get(k, 0) for k in other) == 5

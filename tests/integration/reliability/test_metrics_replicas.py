"""Metrics of several processes (`iotcloud serve`: one operator API, two device APIs, two workers): each
process serves its own registry on its own IOTCLOUD_METRICS_PORT, so Prometheus scrapes each as a target
(its `instance` label) and sums them. The device calls counted by the two device APIs add up to exactly
the calls made, split as the calls were; each worker reports its own tick runs and reads the database."""

from __future__ import annotations

import asyncio
import json

from tests.conftest import TEST_SECRET
from tests.integration.reliability.accounts import create_devices, new_tenant
from tests.integration.reliability.procs import Cluster, Samples, ServiceProc, scrape
from tests.integration.reliability.tally import client
from tests.support.pg import TestDB


def polls(samples: Samples, outcome: str) -> float:
    return samples.get(
        ("iotcloud_device_calls_total", frozenset({("call", "poll"), ("outcome", outcome)})), 0
    )


async def test_each_process_counts_its_own_and_the_sum_is_exact(cluster: Cluster, fresh_db: TestDB) -> None:
    acct = await new_tenant(fresh_db, TEST_SECRET)  # the cluster's database
    dev_a, dev_b = cluster.devices
    before = [await scrape(p) for p in cluster.devices]
    devices = await create_devices(acct, cluster.ui.url, 4, prefix="m")
    calls = {dev_a.name: 7, dev_b.name: 3}
    for proc in (dev_a, dev_b):
        async with client(proc.url) as d:
            for i in range(calls[proc.name]):
                token = acct.tokens[devices[i % len(devices)]]
                r = await d.get("/device/v1/jobs/pending", headers={"X-Provision-Token": token})
                assert r.status_code == 200
    after = [await scrape(p) for p in cluster.devices]
    got = {
        p.name: polls(a, "empty") - polls(b, "empty")
        for p, a, b in zip(cluster.devices, after, before, strict=True)
    }
    assert got == {dev_a.name: 7, dev_b.name: 3}

    await asyncio.sleep(1.0)  # a few ticks (0.3 s) of the two workers
    ran = 0.0
    for w in cluster.workers:
        samples = await scrape(w)
        ran += samples.get(
            ("iotcloud_tick_runs_total", frozenset({("tick", "jobs_expiry"), ("result", "ran")})), 0
        )
        assert samples[("iotcloud_db_up", frozenset({("service", "worker")}))] == 1
        assert ("iotcloud_jobs", frozenset({("status", "IN_PROGRESS")})) in samples
    assert ran >= 2


def json_lines(proc: ServiceProc) -> list[dict[str, object]]:
    return [json.loads(line) for line in proc.log_text().splitlines() if line.startswith("{")]


async def test_each_process_logs_json_lines_naming_its_service(cluster: Cluster) -> None:
    """The cluster logs JSON (procs.py): lines outside any request (uvicorn's start, the worker's loop)
    name their service too, from the task they run in (iotcloud/runner.py); the metrics port's server is
    `metrics`."""
    for proc in (cluster.ui, *cluster.devices, *cluster.workers):
        services = {str(line["service"]) for line in json_lines(proc)}
        assert services == {proc.kind, "metrics"}, (proc.name, services)
    assert all(
        any(str(line["message"]).startswith("worker started: jobs_expiry") for line in json_lines(w))
        for w in cluster.workers
    )

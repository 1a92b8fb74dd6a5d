"""Two device APIs and two workers on one PostgreSQL: 500 devices poll, claim and complete (with illegal,
duplicate and stale updates) while operators create, cancel and expire jobs and both workers tick.

The worker processes read the wall clock (a process's `now` cannot be injected from here), so time passes
for the expiring job by moving its expires_at into the past; what the workers must then do does not depend
on timing: the job also targets devices that nobody runs, whose executions only a worker can end."""

from __future__ import annotations

import asyncio
import os
import re
import time

from shared.infra.db import connect
from tests.conftest import TEST_SECRET
from tests.integration.reliability.accounts import Account, create_devices, new_tenant
from tests.integration.reliability.fleet import Fleet
from tests.integration.reliability.invariants import check_all
from tests.integration.reliability.procs import Cluster
from tests.integration.reliability.tally import TALLY, client
from tests.support.pg import TestDB

# IOTCLOUD_SOAK_DEVICES=5000 (for example) turns this into a longer soak run; `make test` uses 500.
DEVICES = int(os.environ.get("IOTCLOUD_SOAK_DEVICES", "500"))
TIMED_OUT_LOG = re.compile(r"jobs expiry: (\d+) executions timed out")
# Devices no simulated device runs for: their executions of the expiring job can only end by the workers
# timing them out, so the expiry scenario times out this many at least, however fast the fleet claims.
SLEEPERS = 20


async def operate(acct: Account, ui_url: str, db: TestDB, devices: list[str], done: asyncio.Event) -> dict:
    """Operators at work: jobs on the fleet, on groups and on one device; two of them cancel the same job
    at once; some jobs pass their expiry (expires_at moved into the past, as time would)."""
    out: dict[str, object] = {}
    owner = await connect(db.owner_url)
    try:
        async with client(ui_url, headers=acct.auth) as api:
            for name, members in (("even", devices[::2]), ("odd", devices[1::2])):
                assert (
                    await api.post("/customer/groups", json={"group_id": name, "name": name})
                ).status_code == 201
                r = await api.post(f"/customer/groups/{name}/members", json={"device_ids": members})
                assert r.status_code == 200, r.text

            async def job(job_id: str, **target: object) -> None:
                body = {"job_id": job_id, "document_type": "ota", "document_params": {"v": job_id}, **target}
                r = await api.post("/customer/jobs", json=body | {"expires_in_hours": 1})
                assert r.status_code == 201, r.text

            await job("all-1", target_all=True)
            await job("one", target_device_id=devices[3])
            await asyncio.sleep(1.0)
            await job("even-1", target_group_id="even")
            await job("cancel-me", target_all=True)
            await asyncio.sleep(1.0)
            answers = await asyncio.gather(
                api.request("DELETE", "/customer/jobs/cancel-me", json={"reason": "operator A"}),
                api.request("DELETE", "/customer/jobs/cancel-me", json={"reason": "operator B"}),
            )
            out["cancel_statuses"] = sorted(a.status_code for a in answers)
            await create_devices(acct, ui_url, SLEEPERS, prefix="sleeper")  # targeted by expire-me alone
            await job("expire-me", target_all=True)
            await job("odd-1", target_group_id="odd")
            await asyncio.sleep(1.5)
            # Time passes for one job: its expiry is now behind us; both workers' ticks will see it.
            await owner.execute(
                "UPDATE jobs SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND job_id = $2",
                acct.tenant_id,
                "expire-me",
            )
            await asyncio.sleep(1.0)
    finally:
        await owner.close()
        done.set()
    return out


async def wait_settled(db: TestDB, tenant_id: str, timeout: float = 60.0) -> None:
    owner = await connect(db.owner_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = await owner.fetchval(
                "SELECT count(*) FROM jobs WHERE tenant_id = $1 AND status = 'IN_PROGRESS'", tenant_id
            )
            if left == 0:
                return
            await asyncio.sleep(0.3)
        raise AssertionError("jobs still IN_PROGRESS after the fleet finished")
    finally:
        await owner.close()


async def test_replicas_under_concurrent_load(fresh_db: TestDB, cluster: Cluster) -> None:
    acct = await new_tenant(fresh_db, TEST_SECRET)
    devices = await create_devices(acct, cluster.ui.url, DEVICES)
    TALLY.devices += len(devices)
    clients = [client(d.url, limits=_limits()) for d in cluster.devices]
    fleet = Fleet(acct.tenant_id, dict(acct.tokens), clients)  # the fleet's devices: not the sleepers
    done = asyncio.Event()
    started = time.monotonic()
    try:
        ops, _ = await asyncio.gather(operate(acct, cluster.ui.url, fresh_db, devices, done), fleet.run(done))
    finally:
        for c in clients:
            await c.aclose()
    await wait_settled(fresh_db, acct.tenant_id)
    elapsed = time.monotonic() - started

    assert not fleet.unexpected, f"{len(fleet.unexpected)} unexpected answers:\n" + "\n".join(
        fleet.unexpected[:20]
    )
    assert ops["cancel_statuses"] == [200, 409]
    owner = await connect(fresh_db.owner_url)
    try:
        totals = await check_all(owner, fleet.acks)
        statuses = dict(
            await owner.fetch("SELECT job_id, status FROM jobs WHERE tenant_id = $1", acct.tenant_id)
        )
        timed_out = await owner.fetchval(
            "SELECT count(*) FROM job_execution_events WHERE actor = 'worker' AND to_status = 'TIMED_OUT'"
        )
        queued_left = await owner.fetchval("SELECT count(*) FROM job_executions WHERE status = 'QUEUED'")
        sleepers = await owner.fetch(
            "SELECT e.job_id, e.status, array_agg(v.actor || ':' || v.from_status || '>' || v.to_status) AS moves"
            " FROM job_executions e LEFT JOIN job_execution_events v USING (tenant_id, job_id, device_id)"
            " WHERE e.device_id LIKE 'sleeper-%' GROUP BY e.job_id, e.device_id, e.status"
        )
    finally:
        await owner.close()
    assert statuses["cancel-me"] == "CANCELED"
    assert all(s == "COMPLETED" for j, s in statuses.items() if j != "cancel-me"), statuses
    assert queued_left == 0
    # No tick's work was done twice: what the two workers report having timed out adds up to exactly the
    # executions that are TIMED_OUT (each of which has exactly one such event, checked above).
    logged = sum(int(m) for w in cluster.workers for m in TIMED_OUT_LOG.findall(w.log_text()))
    assert logged == timed_out
    # every sleeper had one execution, of expire-me, and the workers timed it out; so timed_out >= SLEEPERS
    assert len(sleepers) == SLEEPERS
    assert {(r["job_id"], r["status"], tuple(r["moves"])) for r in sleepers} == {
        ("expire-me", "TIMED_OUT", ("worker:QUEUED>TIMED_OUT",))
    }
    assert timed_out >= SLEEPERS
    TALLY.transitions += totals["events"]
    TALLY.acked_checked += len(fleet.acks)
    print(
        f"\nreplicas: {len(devices)} devices, {fleet.requests} device requests, {len(fleet.acks)} acks, "
        f"{totals['events']} transitions, {timed_out} timed out by workers, {elapsed:.1f}s"
    )


def _limits() -> object:
    import httpx

    return httpx.Limits(max_connections=40, max_keepalive_connections=40)

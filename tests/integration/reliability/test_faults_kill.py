"""kill -9 in the middle of work: a worker during a long expiry tick, a device API while one of its
group-commit statements (a batch of device updates) runs.
After a restart the tick's work is done exactly once and every update acknowledged with 200 is stored."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from shared.infra.db import connect
from tests.conftest import TEST_SECRET
from tests.integration.reliability.accounts import create_devices, new_tenant
from tests.integration.reliability.fleet import Fleet
from tests.integration.reliability.invariants import check_all, check_settled
from tests.integration.reliability.procs import Cluster, ServiceProc, service_env
from tests.integration.reliability.tally import TALLY, client
from tests.support.pg import TestDB

BIG = 200_000


async def make_expired_job(owner: asyncpg.Connection, tenant_id: str, job_id: str, n: int) -> None:
    """A job with `n` QUEUED executions whose expiry has passed, written directly (fast) with the same
    shape the API produces: executions spread over 16 counter shards, counters exact."""
    async with owner.transaction():
        await owner.execute(
            "INSERT INTO jobs (tenant_id, job_id, document_type, target_all, execution_count, expires_at) "
            "VALUES ($1, $2, 'ota', true, $3, now() - interval '1 minute')",
            tenant_id,
            job_id,
            n,
        )
        await owner.execute(
            "INSERT INTO job_executions (tenant_id, job_id, device_id, shard) "
            "SELECT $1, $2, 'd-' || lpad(i::text, 7, '0'), i % 16 FROM generate_series(0, $3 - 1) i",
            tenant_id,
            job_id,
            n,
        )
        await owner.execute(
            "INSERT INTO job_counters (tenant_id, job_id, shard, queued) "
            "SELECT $1, $2, shard, count(*) FROM job_executions WHERE tenant_id = $1 AND job_id = $2 "
            "GROUP BY shard",
            tenant_id,
            job_id,
        )


async def timed_out(owner: asyncpg.Connection, job_id: str) -> int:
    return int(
        await owner.fetchval(
            "SELECT count(*) FROM job_execution_events WHERE job_id = $1 AND to_status = 'TIMED_OUT'", job_id
        )
    )


async def test_worker_killed_mid_tick_finishes_exactly_once(fresh_db: TestDB, tmp_path: Path) -> None:
    acct = await new_tenant(fresh_db, TEST_SECRET)
    owner = await connect(fresh_db.owner_url)
    env = service_env(fresh_db.owner_url, TEST_SECRET, tmp_path, tick_seconds=0.2)
    first = ServiceProc("worker", "worker-a", env, tmp_path)
    second = ServiceProc("worker", "worker-b", env, tmp_path)
    try:
        await make_expired_job(owner, acct.tenant_id, "big", BIG)
        await first.start().ready()
        deadline = time.monotonic() + 120
        while (done := await timed_out(owner, "big")) == 0:
            assert time.monotonic() < deadline, "the worker never started the tick"
            await asyncio.sleep(0.02)
        first.kill9()
        TALLY.faults.append("kill -9 worker mid-tick")
        after_kill = await timed_out(owner, "big")
        assert 0 < after_kill < BIG, f"not mid-tick: {after_kill} of {BIG} done when killed"
        await check_all(owner)  # what the killed worker committed is consistent: whole batches only

        # The killed worker's advisory lock went with its connection; the other worker takes over.
        await second.start().ready()
        while await owner.fetchval("SELECT status FROM jobs WHERE job_id = 'big'") != "COMPLETED":
            assert time.monotonic() < deadline, f"expiry did not finish: {await timed_out(owner, 'big')}"
            await asyncio.sleep(0.2)
        assert await timed_out(owner, "big") == BIG
        totals = await check_all(owner)  # includes: exactly one TIMED_OUT event per execution
        assert totals["events"] == BIG
        assert "executions timed out" in second.log_text()
        TALLY.transitions += BIG
        print(f"\nworker killed after {done}..{after_kill} of {BIG} executions; restarted worker finished")
    finally:
        first.stop()
        second.stop()
        await owner.close()


# A group-commit statement (iotcloud.device_moves: the batch of device updates) running on one of the given
# backends, by their client ports.
BATCH_IN_FLIGHT = """
SELECT count(*) FROM pg_stat_activity
 WHERE state = 'active' AND query LIKE '%iotcloud.device_moves%' AND client_port = ANY($1::int[])
"""


def db_ports(pid: int, db_port: int) -> list[int]:
    """The local ports of the process's TCP connections to `db_port` (its pool's backends' client ports),
    read from /proc: the process's socket inodes, matched in /proc/net/tcp and tcp6."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == db_port:
                    ports.append(int(local.rsplit(":", 1)[1], 16))
    return ports


async def batch_in_flight(owner: asyncpg.Connection, proc: ServiceProc, db_port: int, seconds: float) -> bool:
    """Waits until one of the process's group-commit statements is running; False if none was seen."""
    assert proc.proc is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ports = db_ports(proc.proc.pid, db_port)
        if ports and await owner.fetchval(BATCH_IN_FLIGHT, ports):
            return True
        await asyncio.sleep(0.002)
    return False


async def test_device_api_killed_mid_request_loses_no_ack(fresh_db: TestDB, cluster: Cluster) -> None:
    acct = await new_tenant(fresh_db, TEST_SECRET)
    devices = await create_devices(acct, cluster.ui.url, 150, prefix="k")
    TALLY.devices += len(devices)
    async with client(cluster.ui.url, headers=acct.auth) as api:
        for job_id in ("k-1", "k-2", "k-3"):
            body = {"job_id": job_id, "document_type": "ota", "target_all": True}
            assert (await api.post("/customer/jobs", json=body)).status_code == 201
    clients = [client(d.url) for d in cluster.devices]
    fleet = Fleet(acct.tenant_id, acct.tokens, clients, seed=11)
    operators_done = asyncio.Event()
    operators_done.set()
    victim = cluster.devices[0]

    watcher = await connect(fresh_db.admin_url)  # sees every role's statements in pg_stat_activity
    mid_batch = False

    async def chaos() -> None:
        nonlocal mid_batch
        while len(fleet.acks) < 150:
            await asyncio.sleep(0.02)
        # killed while one of its group-commit statements runs: the batch's updates are in PostgreSQL's
        # hands, not yet committed nor answered. Every batch that moves something writes history, so holding
        # the history table against writes keeps the batches running until the kill (on a loaded machine a
        # batch's millisecond could otherwise slip between two looks); the lock goes when the kill is done.
        locker = await connect(fresh_db.owner_url)
        try:
            async with locker.transaction():
                await locker.execute("LOCK TABLE job_execution_events IN EXCLUSIVE MODE")
                mid_batch = await batch_in_flight(
                    watcher, victim, urlsplit(fresh_db.owner_url).port or 5432, 10
                )
                victim.kill9()
        finally:
            await locker.close()
        TALLY.faults.append("kill -9 device API mid-batch")
        await asyncio.sleep(0.5)
        await victim.start().ready()

    try:
        await asyncio.gather(fleet.run(operators_done), chaos())
    finally:
        await watcher.close()
        for c in clients:
            await c.aclose()
    assert mid_batch, "no group-commit statement of the victim was seen running before the kill"
    assert fleet.transport_errors > 0, "no request was in flight when the device API was killed"
    assert not fleet.unexpected, "\n".join(fleet.unexpected[:20])
    totals = await check_settled(fresh_db.owner_url, fleet.acks)
    TALLY.transitions += totals["events"]
    TALLY.acked_checked += len(fleet.acks)
    print(
        f"\ndevice API killed: {fleet.transport_errors} broken requests retried, {len(fleet.acks)} acks kept"
    )

"""The state machine's one home is the database: iotcloud.execution_moves() lists the moves and
iotcloud.move_executions() is the only way to make one. These tests read both as the runtime role and
check that Python's status names, the CHECK constraints and the moves agree, that the primitive refuses
each kind of illegal request with its reason and changes nothing, and that timestamps follow statuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from shared.infra.db import SET_TENANT, connect
from shared.jobs.states import DEVICE_TARGETS, TERMINAL, Actor, ExecutionStatus
from tests.conftest import Services, Tenant

T0 = datetime(2032, 3, 1, tzinfo=UTC)
MOVE = "SELECT * FROM iotcloud.move_executions($1, $2, $3, $4, $5, $6, $7)"


async def _moves(conn: asyncpg.Connection) -> set[tuple[str, str, str]]:
    rows = await conn.fetch("SELECT actor, from_status, to_status FROM iotcloud.execution_moves()")
    return {(r["actor"], r["from_status"], r["to_status"]) for r in rows}


async def test_python_statuses_and_the_database_moves_agree(services: Services) -> None:
    conn = await connect(services.db.app_url)
    try:
        moves = await _moves(conn)
    finally:
        await conn.close()
    names = {s.value for s in ExecutionStatus}
    assert {m[1] for m in moves} | {m[2] for m in moves} <= names
    assert {m[0] for m in moves} == {a.value for a in Actor}
    # what a device may ask for is exactly where its moves go
    assert {to for actor, _, to in moves if actor == "device"} == {s.value for s in DEVICE_TARGETS}
    # terminal means no device or operator move leaves it; every other status has a way out. Only the
    # worker's retry (retry_config) queues a FAILED or TIMED_OUT execution again, and only to QUEUED.
    sources = {frm for actor, frm, _ in moves if actor != "worker"} | {
        frm for actor, frm, to in moves if actor == "worker" and to != "QUEUED"
    }
    assert sources == names - {s.value for s in TERMINAL}
    assert {(frm, to) for actor, frm, to in moves if to == "QUEUED"} == {
        ("FAILED", "QUEUED"),
        ("TIMED_OUT", "QUEUED"),
    }
    # the contract's moves
    assert ("device", "QUEUED", "IN_PROGRESS") in moves and ("device", "IN_PROGRESS", "SUCCEEDED") in moves
    assert ("device", "IN_PROGRESS", "QUEUED") not in moves
    assert ("operator", "QUEUED", "REJECTED") in moves and ("worker", "QUEUED", "TIMED_OUT") in moves


async def _setup(tenant: Tenant, n: int, **job: Any) -> tuple[list[str], str]:
    devs = await tenant.create_devices(n, prefix="sm")
    await tenant.create_group("sm", devs)
    tenant.services.set_clock(T0)
    try:
        async with tenant.api() as api:
            r = await api.post("/customer/jobs", json={"document_type": "fw", "target_group_id": "sm", **job})
            assert r.status_code == 201, r.text
    finally:
        tenant.services.set_clock(None)
    return devs, r.json()["job_id"]


async def _move(
    conn: asyncpg.Connection,
    actor: str,
    now: datetime,
    reqs: list[tuple[str, str, str]],
    details: list[Any] | None = None,
    expected: list[int | None] | None = None,
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            MOVE,
            actor,
            now,
            [r[0] for r in reqs],
            [r[1] for r in reqs],
            [r[2] for r in reqs],
            details,
            expected,
        )
    )


async def _state(
    conn: asyncpg.Connection, job_id: str
) -> tuple[list[tuple[str, str, int]], int, dict[str, int]]:
    rows = await conn.fetch(
        "SELECT device_id, status, execution_number FROM job_executions WHERE job_id = $1 ORDER BY device_id",
        job_id,
    )
    events = await conn.fetchval("SELECT count(*) FROM job_execution_events WHERE job_id = $1", job_id)
    counts = await conn.fetchrow(
        "SELECT sum(queued)::int q, sum(in_progress)::int ip, sum(succeeded)::int s, sum(timed_out)::int t "
        "FROM job_counters WHERE job_id = $1",
        job_id,
    )
    assert counts is not None
    return [tuple(r) for r in rows], events, dict(counts)


@asynccontextmanager
async def _in_tenant(services: Services, tenant: Tenant) -> AsyncIterator[asyncpg.Connection]:
    """A transaction of the runtime role in the tenant, as the services open one."""
    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            yield conn
    finally:
        await conn.close()


async def test_the_primitive_refuses_with_a_reason_and_changes_nothing(
    services: Services, tenant: Tenant
) -> None:
    devs, job = await _setup(tenant, 3, expires_in_hours=1)
    async with _in_tenant(services, tenant) as conn:
        before = await _state(conn, job)
        now = T0 + timedelta(minutes=1)
        rows = await _move(
            conn,
            "device",
            now,
            [
                (job, devs[0], "SUCCEEDED"),  # QUEUED -> SUCCEEDED skips IN_PROGRESS
                (job, "no-such-device", "IN_PROGRESS"),
                (job, devs[1], "IN_PROGRESS"),  # stale expected number
                (job, devs[2], "TIMED_OUT"),  # a device cannot time itself out
            ],
            expected=[None, None, 7, None],
        )
        assert [r["outcome"] for r in rows] == [
            "not_allowed",
            "not_found",
            "version_mismatch",
            "not_allowed",
        ]
        assert rows[0]["status"] == "QUEUED" and rows[2]["execution_number"] == 1
        # the worker may time out QUEUED work only once the job has expired, and IN_PROGRESS work only
        # past a deadline the job never set
        early = await _move(conn, "worker", now, [(job, devs[0], "TIMED_OUT")])
        assert early[0]["outcome"] == "not_expired"
        # the operator rejects QUEUED work only of a canceled job
        op = await _move(conn, "operator", now, [(job, devs[0], "REJECTED")])
        assert op[0]["outcome"] == "not_canceled"
        assert await _state(conn, job) == before


async def test_the_primitive_moves_counts_records_and_completes_once(
    services: Services, tenant: Tenant
) -> None:
    devs, job = await _setup(tenant, 3, expires_in_hours=1)
    async with _in_tenant(services, tenant) as conn:
        now = T0 + timedelta(minutes=1)
        claims = await _move(conn, "device", now, [(job, d, "IN_PROGRESS") for d in devs[:2]])
        assert [r["outcome"] for r in claims] == ["moved", "moved"]
        # the same execution twice in one call: the first is decided, the second is refused
        dup = await _move(conn, "device", now, [(job, devs[0], "SUCCEEDED"), (job, devs[0], "FAILED")])
        assert [r["outcome"] for r in dup] == ["moved", "duplicate"]
        # repeating the terminal update changes nothing and says so
        again = await _move(conn, "device", now, [(job, devs[0], "SUCCEEDED")])
        assert again[0]["outcome"] == "unchanged" and again[0]["execution_number"] == 3
        # past expiry, the worker times out the QUEUED one; a device may still finish what it started
        later = T0 + timedelta(hours=2)
        claim = await _move(conn, "device", later, [(job, devs[2], "IN_PROGRESS")])
        assert claim[0]["outcome"] == "job_expired"
        out = await _move(conn, "worker", later, [(job, devs[2], "TIMED_OUT")])
        assert out[0]["outcome"] == "moved" and not out[0]["job_completed"]
        done = await _move(conn, "device", later, [(job, devs[1], "SUCCEEDED")])
        assert done[0]["outcome"] == "moved" and done[0]["job_completed"]
        rows, events, counts = await _state(conn, job)
        assert [r[1] for r in rows] == ["SUCCEEDED", "SUCCEEDED", "TIMED_OUT"]
        assert events == 5 and counts == {"q": 0, "ip": 0, "s": 2, "t": 1}
        status = await conn.fetchval("SELECT status FROM jobs WHERE job_id = $1", job)
        assert status == "COMPLETED"


async def test_timestamps_follow_statuses(services: Services, tenant: Tenant) -> None:
    _devs, job = await _setup(tenant, 1)
    owner = await connect(services.db.owner_url)
    try:
        for stmt in (
            "UPDATE jobs SET status = 'COMPLETED' WHERE job_id = $1",  # no completed_at
            "UPDATE jobs SET completed_at = now() WHERE job_id = $1",  # completed_at on a running job
            "UPDATE jobs SET status = 'CANCELED', cancel_mode = 'reject' WHERE job_id = $1",  # no canceled_at
            "UPDATE jobs SET status = 'CANCELED', canceled_at = now() WHERE job_id = $1",  # no cancel_mode
            "UPDATE job_executions SET status = 'IN_PROGRESS' WHERE job_id = $1",  # no started_at
            "UPDATE job_executions SET started_at = now() WHERE job_id = $1",  # QUEUED but started
            "UPDATE job_executions SET timeout_at = now() WHERE job_id = $1",  # a deadline, never started
        ):
            with pytest.raises(asyncpg.CheckViolationError):
                await owner.execute(stmt, job)
    finally:
        await owner.close()

"""iotcloud.apply_range_moves, the move primitive's entry point for a sweep's window (a primary-key range):
it makes only the moves iotcloud.execution_moves() allows the actor, only where the guard holds, only
within the range and from the given statuses, and for each move writes its history row and moves its count,
as iotcloud.apply_moves does; the invariants hold after it."""

from __future__ import annotations

from datetime import timedelta

from shared.infra.db import connect
from tests.conftest import Services, Tenant
from tests.integration.reliability.invariants import check_all
from tests.integration.test_state_machine import T0, _in_tenant, _setup, _state

RANGE = "SELECT moved, completed_jobs FROM iotcloud.apply_range_moves($1, $2, $3, $4, $5, $6, $7, $8, $9)"
TIMED_OUT = {"reason": "job_expired"}


async def test_only_allowed_guarded_moves_in_the_range(services: Services, tenant: Tenant) -> None:
    devs, job = await _setup(tenant, 6, expires_in_hours=1)
    devs = sorted(devs)
    expired = T0 + timedelta(hours=2)
    async with _in_tenant(services, tenant) as conn:
        # one execution started: QUEUED is the only from-status given, so it stays
        await conn.fetch(
            "SELECT * FROM iotcloud.move_executions('device', $1, $2, $3, $4)",
            T0 + timedelta(minutes=1),
            [job],
            [devs[1]],
            ["IN_PROGRESS"],
        )
        before = await _state(conn, job)
        # not a move of the state machine (the worker never makes an execution SUCCEEDED): nothing
        row = await conn.fetchrow(
            RANGE, "worker", expired, job, "", devs[-1], ["QUEUED"], "SUCCEEDED", None, False
        )
        assert row is not None and row["moved"] == 0
        # an allowed move whose guard does not hold (the job has not expired yet): nothing
        row = await conn.fetchrow(
            RANGE, "worker", T0, job, "", devs[-1], ["QUEUED"], "TIMED_OUT", TIMED_OUT, False
        )
        assert row is not None and row["moved"] == 0
        assert await _state(conn, job) == before

        # expired: the QUEUED executions of (devs[0], devs[3]] time out, nothing else moves
        row = await conn.fetchrow(
            RANGE, "worker", expired, job, devs[0], devs[3], ["QUEUED"], "TIMED_OUT", TIMED_OUT, False
        )
        assert row is not None and row["moved"] == 2 and row["completed_jobs"] == []
        rows, events, counts = await _state(conn, job)
        statuses = {d: s for d, s, _ in rows}
        assert [statuses[d] for d in devs] == [
            "QUEUED", "IN_PROGRESS", "TIMED_OUT", "TIMED_OUT", "QUEUED", "QUEUED"
        ]  # fmt: skip
        assert events == before[1] + 2
        assert counts == {"q": 3, "ip": 1, "s": 0, "t": 2}
        history = await conn.fetch(
            "SELECT device_id, from_status, to_status, actor, status_details FROM job_execution_events "
            "WHERE job_id = $1 AND to_status = 'TIMED_OUT' ORDER BY device_id",
            job,
        )
        assert [tuple(h) for h in history] == [
            (devs[2], "QUEUED", "TIMED_OUT", "worker", TIMED_OUT),
            (devs[3], "QUEUED", "TIMED_OUT", "worker", TIMED_OUT),
        ]
        # the rest of the job: the QUEUED ones move; the IN_PROGRESS one is not the worker's to time out here
        row = await conn.fetchrow(
            RANGE, "worker", expired, job, "", devs[-1], ["QUEUED"], "TIMED_OUT", TIMED_OUT, False
        )
        assert row is not None and row["moved"] == 3
        assert (await _state(conn, job))[2] == {"q": 0, "ip": 1, "s": 0, "t": 5}
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()

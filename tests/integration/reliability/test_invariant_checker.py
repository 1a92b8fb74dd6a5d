"""The invariant checker itself: a history planted as the database owner (no service involved) is reported
exactly when it breaks a rule, with that rule's kind, and a legal history of each shape passes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.infra.db import connect
from shared.jobs.states import COUNTER_COLUMNS, ExecutionStatus, is_terminal
from shared.tenants import create_tenant
from tests.integration.reliability import invariants as inv
from tests.support.pg import TestDB

T0 = datetime(2031, 1, 1, tzinfo=UTC)
Q, IP, S, T, R, C = "QUEUED", "IN_PROGRESS", "SUCCEEDED", "TIMED_OUT", "REJECTED", "CANCELED"
MIN = timedelta(minutes=1)


@dataclass
class History:
    """One job with one execution whose recorded moves are `moves`: (actor, from, to, minutes after T0).
    Counters, execution_number and job status are made consistent with the moves unless overridden."""

    moves: list[tuple[str, str, str, int]]
    expires_in: int | None = None  # minutes after T0
    in_progress_timeout: int | None = None  # minutes
    job_status: str | None = None
    numbers: list[int] | None = None
    row_status: str | None = None
    cancel_mode: str | None = None  # a CANCELED job's: reject unless given
    force: bool = False  # the moves to CANCELED say {"force": true} in their status_details
    purge: str | None = None  # the job's history_purge (retention): 'purging' or 'purged'
    dropped: tuple[int, ...] = ()  # indexes of moves whose events are not planted (purged)


LEGAL = {
    "claim, progress, succeed": History([("device", Q, IP, 0), ("device", IP, IP, 1), ("device", IP, S, 2)]),
    "device declines": History([("device", Q, R, 0)]),
    "expired by the worker": History([("worker", Q, T, 60)], expires_in=60),
    "timed out in progress": History(
        [("device", Q, IP, 0), ("worker", IP, T, 5)], in_progress_timeout=5, expires_in=600
    ),
    "rejected by a cancel": History([("operator", Q, R, 1)], job_status="CANCELED"),
    "canceled by the job's cancel": History(
        [("operator", Q, C, 1)], job_status="CANCELED", cancel_mode="cancel"
    ),
    "canceled alone, job running": History([("operator", Q, C, 1)]),
    "cancel finished by the worker": History(
        [("worker", Q, C, 1)], job_status="CANCELED", cancel_mode="cancel"
    ),
    "force-canceled in progress": History([("device", Q, IP, 0), ("operator", IP, C, 1)], force=True),
    "force cancel finished by the worker": History(
        [("device", Q, IP, 0), ("worker", IP, C, 1)], job_status="CANCELED", cancel_mode="force", force=True
    ),
    "still queued, no history": History([]),
    "history purge under way, start of the chain gone": History(
        [("device", Q, IP, 0), ("device", IP, IP, 1), ("device", IP, S, 2)], purge="purging", dropped=(0,)
    ),
    "history purged whole": History(
        [("device", Q, IP, 0), ("device", IP, S, 2)], purge="purged", dropped=(0, 1)
    ),
    "history purge took the claim of an in-progress timeout": History(
        [("device", Q, IP, 0), ("worker", IP, T, 5)],
        in_progress_timeout=5,
        expires_in=600,
        purge="purging",
        dropped=(0,),
    ),
}

BROKEN = {
    "QUEUED->SUCCEEDED jump": (History([("device", Q, S, 0)]), inv.ILLEGAL_MOVE),
    "device times itself out": (History([("device", Q, IP, 0), ("device", IP, T, 1)]), inv.ILLEGAL_MOVE),
    "worker succeeds a device": (History([("device", Q, IP, 0), ("worker", IP, S, 1)]), inv.ILLEGAL_MOVE),
    "operator rejects a started execution": (
        History([("device", Q, IP, 0), ("operator", IP, R, 1)], job_status="CANCELED"),
        inv.ILLEGAL_MOVE,
    ),
    "expiry of a job without expiry": (History([("worker", Q, T, 60)]), inv.EXPIRY_NOT_DUE),
    "expiry before expires_at": (History([("worker", Q, T, 59)], expires_in=60), inv.EXPIRY_NOT_DUE),
    "in-progress timeout without a deadline": (
        History([("device", Q, IP, 0), ("worker", IP, T, 5)], expires_in=600),
        inv.TIMEOUT_NOT_DUE,
    ),
    "in-progress timeout before the deadline": (
        History([("device", Q, IP, 0), ("worker", IP, T, 4)], in_progress_timeout=5),
        inv.TIMEOUT_NOT_DUE,
    ),
    "operator reject on a job not canceled": (
        History([("operator", Q, R, 1)], job_status="COMPLETED"),
        inv.OPERATOR_NOT_CANCELED,
    ),
    "operator cancels in-progress work without force": (
        History([("device", Q, IP, 0), ("operator", IP, C, 1)]),
        inv.CANCEL_NOT_DUE,
    ),
    "worker cancels queued work of a running job": (History([("worker", Q, C, 1)]), inv.CANCEL_NOT_DUE),
    "worker cancels queued work of a job rejected by DELETE": (
        History([("worker", Q, C, 1)], job_status="CANCELED"),
        inv.CANCEL_NOT_DUE,
    ),
    "worker force-cancels work of a job not canceled with force": (
        History(
            [("device", Q, IP, 0), ("worker", IP, C, 1)],
            job_status="CANCELED",
            cancel_mode="cancel",
            force=True,
        ),
        inv.CANCEL_NOT_DUE,
    ),
    "a DELETE's rejection in a job canceled by CancelJob": (
        History([("operator", Q, R, 1)], job_status="CANCELED", cancel_mode="cancel"),
        inv.OPERATOR_NOT_CANCELED,
    ),
    "history starts elsewhere than QUEUED": (History([("device", IP, S, 0)]), inv.CHAIN),
    "a move from where the execution was not": (
        History([("device", Q, IP, 0), ("device", Q, R, 1)]),
        inv.CHAIN,
    ),
    "history ends elsewhere than the row": (
        History([("device", Q, IP, 0)], row_status=S, job_status="COMPLETED"),
        inv.CHAIN,
    ),
    "start of the chain gone without a purge": (
        History([("device", Q, IP, 0), ("device", IP, S, 1)], dropped=(0,)),
        inv.CHAIN,
    ),
    "a gap in a chain being purged": (
        History(
            [("device", Q, IP, 0), ("device", IP, IP, 1), ("device", IP, S, 2)], purge="purging", dropped=(1,)
        ),
        inv.CHAIN,
    ),
    "events left after the history was purged": (
        History([("device", Q, IP, 0), ("device", IP, S, 1)], purge="purged", dropped=(0,)),
        inv.CHAIN,
    ),
    "execution numbers not increasing": (
        History([("device", Q, IP, 0), ("device", IP, S, 1)], numbers=[3, 3]),
        inv.CHAIN,
    ),
}


async def _plant(owner: asyncpg.Connection, tenant_id: str, h: History) -> None:
    final = h.row_status or (h.moves[-1][2] if h.moves else Q)
    numbers = h.numbers or list(range(2, len(h.moves) + 2))
    job_status = h.job_status or ("COMPLETED" if is_terminal(final) else "IN_PROGRESS")
    expires_at = T0 + h.expires_in * MIN if h.expires_in is not None else None
    await owner.execute(
        "INSERT INTO jobs (tenant_id, job_id, document_type, target_all, status, execution_count, expires_at, "
        "in_progress_timeout_minutes, created_at, completed_at, canceled_at, cancel_mode, history_purge, "
        "history_purged_at) "
        "VALUES ($1, 'j', 'test', true, $2, 1, $3, $4, $5, "
        "        CASE WHEN $2 = 'COMPLETED' THEN $5::timestamptz END, CASE WHEN $2 = 'CANCELED' THEN $5::timestamptz END,"
        "        CASE WHEN $2 = 'CANCELED' THEN coalesce($6, 'reject') END, $7::text,"
        "        CASE WHEN $7::text IS NOT NULL THEN $5::timestamptz END)",
        tenant_id,
        job_status,
        expires_at,
        h.in_progress_timeout,
        T0,
        h.cancel_mode,
        h.purge,
    )
    await owner.execute(
        "INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, shard, queued_at, "
        "started_at) VALUES ($1, 'j', 'dev-1', $2, $3, 0, $4, "
        "                    CASE WHEN $2 IN ('IN_PROGRESS', 'SUCCEEDED', 'FAILED') THEN $4::timestamptz END)",
        tenant_id,
        final,
        max(numbers, default=1),
        T0,
    )
    column = COUNTER_COLUMNS[ExecutionStatus(final)]
    await owner.execute(
        f"INSERT INTO job_counters (tenant_id, job_id, shard, {column}) VALUES ($1, 'j', 0, 1)", tenant_id
    )
    for i, ((actor, frm, to, minutes), number) in enumerate(zip(h.moves, numbers, strict=True)):
        if i in h.dropped:
            continue
        await owner.execute(
            "INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor, "
            "execution_number, at, status_details) VALUES ($1, 'j', 'dev-1', $2, $3, $4, $5, $6, $7)",
            tenant_id,
            frm,
            to,
            actor,
            number,
            T0 + minutes * MIN,
            {"force": True} if h.force and to == C else None,
        )


async def _problems(db: TestDB, h: History) -> list[str]:
    owner = await connect(db.owner_url)
    try:
        await create_tenant(owner, "checked", "checked")
        await _plant(owner, "checked", h)
        problems, totals = await inv.find_problems(owner)
        assert totals["events"] == len(h.moves) - len(h.dropped)
        return problems
    finally:
        await owner.close()


@pytest.mark.parametrize("history", LEGAL.values(), ids=LEGAL.keys())
async def test_legal_history_passes(fresh_db: TestDB, history: History) -> None:
    assert await _problems(fresh_db, history) == []


@pytest.mark.parametrize(("history", "kind"), BROKEN.values(), ids=BROKEN.keys())
async def test_broken_history_is_reported(fresh_db: TestDB, history: History, kind: str) -> None:
    problems = await _problems(fresh_db, history)
    assert problems, "the checker found nothing wrong"
    assert {p.split(":", 1)[0] for p in problems} == {kind}, problems
    with pytest.raises(AssertionError, match=re.escape(kind)):
        owner = await connect(fresh_db.owner_url)
        try:
            await inv.check_all(owner)
        finally:
            await owner.close()


async def test_allowed_moves_is_the_documented_state_machine(fresh_db: TestDB) -> None:
    """The table in docs/jobs.md, move by move: what the checker holds every history against."""
    owner = await connect(fresh_db.owner_url)
    try:
        moves = await inv.allowed_moves(owner)
    finally:
        await owner.close()
    assert moves == {
        ("device", Q, IP),
        ("device", Q, R),
        ("device", IP, IP),
        ("device", IP, S),
        ("device", IP, "FAILED"),
        ("device", IP, R),
        ("operator", Q, R),
        ("operator", Q, C),  # CancelJob, or CancelJobExecution
        ("operator", IP, C),  # the same with force
        ("operator", Q, "REMOVED"),  # the device left a continuous job's target
        ("worker", Q, R),  # finishing the sweep of a cancel cut short
        ("worker", Q, C),  # the same, for CancelJob; or a stopped rollout's never-reached work
        ("worker", IP, C),  # the same, with force
        ("worker", Q, T),
        ("worker", IP, T),
        ("worker", "FAILED", Q),  # retry_config
        ("worker", T, Q),
    }

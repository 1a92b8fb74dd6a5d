"""Database-level invariants of the jobs system, read with the owner role (sees every tenant).

Every recorded move is checked against the state machine, which the checker learns from one function,
`allowed_moves()`; each execution's history must chain from QUEUED to the execution's current status; the
worker's timeouts and the operator's rejections must have had their reason (an expired job, a passed
in-progress deadline, a canceled job), and an IN_PROGRESS execution is canceled only with force."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from shared.infra.db import connect
from shared.jobs.states import COUNTER_COLUMNS, Actor, CancelMode, ExecutionStatus, JobStatus
from shared.jobs.states import TERMINAL as TERMINAL_STATUSES

TERMINAL = {s.value for s in TERMINAL_STATUSES}
COLS = tuple(COUNTER_COLUMNS.values())
QUEUED, IN_PROGRESS, TIMED_OUT, REJECTED, CANCELED, REMOVED = (
    ExecutionStatus.QUEUED.value,
    ExecutionStatus.IN_PROGRESS.value,
    ExecutionStatus.TIMED_OUT.value,
    ExecutionStatus.REJECTED.value,
    ExecutionStatus.CANCELED.value,
    ExecutionStatus.REMOVED.value,
)

Key = tuple[str, str, str]  # (tenant_id, job_id, device_id)
Move = tuple[str, str, str]  # (actor, from_status, to_status)

# Each problem message starts with its kind (the checker's own tests match on these).
COUNTERS = "counters"
COMPLETION = "completion"
CHAIN = "broken chain"
LEFT_TERMINAL = "left terminal"
ILLEGAL_MOVE = "illegal move"
EXPIRY_NOT_DUE = "expiry not due"
TIMEOUT_NOT_DUE = "in-progress timeout not due"
OPERATOR_NOT_CANCELED = "operator move on a job not canceled"
CANCEL_NOT_DUE = "cancel not due"
RETRY_NOT_DUE = "retry not due"
REMOVED_NOT_CONTINUOUS = "removed from a snapshot job"
ORPHAN = "orphan events"
LOST_ACK = "acknowledged update not in history"


@dataclass(frozen=True)
class Ack:
    """An update the API acknowledged with 200: the execution reached `status` at `number`."""

    tenant_id: str
    job_id: str
    device_id: str
    number: int
    status: str


async def allowed_moves(conn: asyncpg.Connection) -> frozenset[Move]:
    """Every (actor, from, to) move the state machine allows: the checker's only source for it, read from
    the state machine's one definition, iotcloud.execution_moves() in db/functions/010_state_machine.sql."""
    rows = await conn.fetch("SELECT actor, from_status, to_status FROM iotcloud.execution_moves()")
    return frozenset((r["actor"], r["from_status"], r["to_status"]) for r in rows)


def _chain_problems(
    key: Key, status: str, number: int, chain: list[asyncpg.Record], purge: str | None = None
) -> list[str]:
    """The history chains: QUEUED first, each move from where the previous one went, ending where the row
    is, one execution_number per move (2, 3, ..., strictly increasing up to the row's number).
    Retention (db/functions/090_retention.sql) purges a finished job's history from the start of each chain:
    while the job's history_purge is 'purging' a chain may have lost its start (what is left still chains to
    the row), once 'purged' none is left; either way the execution is terminal."""
    out = []
    numbers = [e["execution_number"] for e in chain]
    first = 2 if purge is None else number - len(chain) + 1
    if numbers != list(range(first, number + 1)) or first < 2 or (purge == "purged" and chain):
        out.append(
            f"{CHAIN}: execution {key}: event numbers {numbers} for execution_number {number} ({purge})"
        )
    if purge is not None and status not in TERMINAL:
        out.append(f"{CHAIN}: execution {key}: history purged while {status}")
    if purge is not None and not chain:
        return out
    prev = QUEUED if purge is None else chain[0]["from_status"]
    for e in chain:
        if e["from_status"] != prev:
            out.append(f"{CHAIN}: execution {key}: event {e['from_status']}->{e['to_status']} after {prev}")
        retry = (
            e["actor"] == Actor.WORKER and e["to_status"] == QUEUED
        )  # retry_config, checked in _move_problems
        if e["from_status"] in TERMINAL and not retry:
            out.append(f"{LEFT_TERMINAL}: execution {key}: changed after terminal {e['from_status']}")
        prev = e["to_status"]
    if prev != status:
        out.append(f"{CHAIN}: execution {key}: history ends in {prev}, row says {status}")
    return out


def _move_problems(
    key: Key, chain: list[asyncpg.Record], moves: frozenset[Move], job: dict[str, Any]
) -> list[str]:
    """Each recorded move is one the state machine allows its actor, made when it was due."""
    out = []
    claimed_at = None
    retries = 0
    for e in chain:
        actor, frm, to, at = e["actor"], e["from_status"], e["to_status"], e["at"]
        reason = (e["status_details"] or {}).get("reason")
        where = f"execution {key} #{e['execution_number']}: {actor} {frm}->{to} at {at}"
        if (actor, frm, to) not in moves:
            out.append(f"{ILLEGAL_MOVE}: {where}")
        if (frm, to) == (QUEUED, IN_PROGRESS):
            claimed_at = at
        if actor == Actor.WORKER and (frm, to) == (QUEUED, TIMED_OUT):
            if job["expires_at"] is None or job["expires_at"] > at:
                out.append(f"{EXPIRY_NOT_DUE}: {where}: the job expires at {job['expires_at']}")
        if to == QUEUED:  # a retry: within the job's retry_config, of a job still running then
            retries += 1
            allowed = job["retry_failed"] if frm == "FAILED" else job["retry_timed_out"]
            if allowed is None or retries > allowed:
                out.append(f"{RETRY_NOT_DUE}: {where}: retry {retries} of {allowed} allowed")
        if actor == Actor.WORKER and (frm, to) == (IN_PROGRESS, TIMED_OUT) and reason != "step_timeout":
            minutes = job["in_progress_timeout_minutes"]
            due = claimed_at + timedelta(minutes=minutes) if minutes and claimed_at else None
            # the claim may be among the events a retention purge removed: the deadline is then unknown
            claim_purged = bool(job["history_purge"] and minutes and claimed_at is None)
            if not claim_purged and (due is None or due > at):
                out.append(
                    f"{TIMEOUT_NOT_DUE}: {where}: claimed at {claimed_at}, in-progress timeout {minutes} min"
                )
        # the operator's cancel (DELETE), or the worker finishing its sweep: QUEUED -> REJECTED of a job
        # canceled that way only
        if (frm, to) == (QUEUED, REJECTED) and actor in (Actor.OPERATOR, Actor.WORKER):
            if job["status"] != JobStatus.CANCELED or job["cancel_mode"] != CancelMode.REJECT:
                out.append(
                    f"{OPERATOR_NOT_CANCELED}: {where}: the job is {job['status']} ({job['cancel_mode']})"
                )
        # REMOVED: only a continuous job's execution, whose device left its target
        if to == REMOVED and job["target_selection"] != "CONTINUOUS":
            out.append(f"{REMOVED_NOT_CONTINUOUS}: {where}")
        # CANCELED: the operator's explicit cancel (of the job or of this execution) may cancel QUEUED work at
        # any time; the worker only finishes a job's CancelJob sweep; IN_PROGRESS work only with force (the
        # worker's: only of a job canceled with force)
        if to == CANCELED:
            force = bool((e["status_details"] or {}).get("force"))
            job_canceled = job["status"] == JobStatus.CANCELED and job["cancel_mode"] in (
                CancelMode.CANCEL,
                CancelMode.FORCE,
            )
            stopped = reason == "rollout_stopped" and job["rollout_stopped_at"] is not None
            if stopped and (frm != QUEUED or job["rollout_stopped_at"] > at):
                out.append(f"{CANCEL_NOT_DUE}: {where}: the rollout stopped at {job['rollout_stopped_at']}")
            if actor == Actor.WORKER and not job_canceled and not stopped:
                out.append(f"{CANCEL_NOT_DUE}: {where}: the job is {job['status']} ({job['cancel_mode']})")
            if frm == IN_PROGRESS and not force:
                out.append(f"{CANCEL_NOT_DUE}: {where}: an IN_PROGRESS execution canceled without force")
            if frm == IN_PROGRESS and actor == Actor.WORKER and job["cancel_mode"] != CancelMode.FORCE:
                out.append(f"{CANCEL_NOT_DUE}: {where}: the job's cancel was not forced")
    return out


async def find_problems(
    conn: asyncpg.Connection, acks: list[Ack] | None = None
) -> tuple[list[str], dict[str, int]]:
    """Every broken invariant (one message each, starting with its kind) and a few totals."""
    problems: list[str] = []
    real = await conn.fetch(
        "SELECT tenant_id, job_id, lower(status) AS s, count(*)::int AS n FROM job_executions GROUP BY 1, 2, 3"
    )
    real_counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLS, 0))
    for r in real:
        real_counts[(r["tenant_id"], r["job_id"])][r["s"]] = r["n"]
    sums = ", ".join(f"coalesce(sum(c.{c}), 0)::int AS {c}" for c in COLS)
    jobs = await conn.fetch(
        f"SELECT j.tenant_id, j.job_id, j.status, j.execution_count, j.expires_at, "
        f"j.in_progress_timeout_minutes, j.cancel_mode, j.retry_failed, j.retry_timed_out, j.canceled_at, "
        f"j.rollout_stopped_at, j.queued_swept_at, j.target_selection, j.deleting_at IS NOT NULL AS deleting, "
        f"j.history_purge, {sums} FROM jobs j "
        "LEFT JOIN job_counters c ON c.tenant_id = j.tenant_id AND c.job_id = j.job_id "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15"
    )
    for j in jobs:
        key = (j["tenant_id"], j["job_id"])
        real_c = real_counts[key]
        counted = {c: j[c] for c in COLS}
        if counted != real_c:
            problems.append(f"{COUNTERS}: job {key}: counters {counted} != real {real_c}")
        if j["execution_count"] != sum(real_c.values()):
            problems.append(
                f"{COUNTERS}: job {key}: execution_count {j['execution_count']} != {sum(real_c.values())}"
            )
        active = real_c["queued"] + real_c["in_progress"]
        if j["status"] == "COMPLETED" and active:
            problems.append(f"{COMPLETION}: job {key}: COMPLETED with {active} active executions")
        if j["status"] == "CANCELED" and j["queued_swept_at"] is not None and real_c["queued"]:
            problems.append(
                f"{COMPLETION}: job {key}: CANCELED and swept with {real_c['queued']} QUEUED left"
            )
        continuous = j["target_selection"] == "CONTINUOUS"
        if continuous and j["status"] == "COMPLETED":
            problems.append(f"{COMPLETION}: job {key}: a continuous job COMPLETED (it runs until canceled)")
        # a job being deleted (force) may have lost its active executions before the rest: it is hidden, and
        # no move completes it any more
        if j["status"] == "IN_PROGRESS" and not active and not continuous and not j["deleting"]:
            problems.append(f"{COMPLETION}: job {key}: all executions terminal but still IN_PROGRESS")

    executions = {
        (r["tenant_id"], r["job_id"], r["device_id"]): (r["status"], r["execution_number"])
        for r in await conn.fetch(
            "SELECT tenant_id, job_id, device_id, status, execution_number FROM job_executions"
        )
    }
    job_facts = {(j["tenant_id"], j["job_id"]): dict(j) for j in jobs}
    chains: dict[Key, list[asyncpg.Record]] = defaultdict(list)
    events = await conn.fetch(
        "SELECT tenant_id, job_id, device_id, from_status, to_status, execution_number, actor, at, "
        "status_details "
        "FROM job_execution_events ORDER BY event_id"
    )
    for ev in events:
        chains[(ev["tenant_id"], ev["job_id"], ev["device_id"])].append(ev)
    moves = await allowed_moves(conn)
    for key, (status, number) in executions.items():
        chain = chains.pop(key, [])
        problems += _chain_problems(key, status, number, chain, job_facts[key[:2]]["history_purge"])
        problems += _move_problems(key, chain, moves, job_facts[key[:2]])
    if chains:
        problems.append(f"{ORPHAN}: {len(chains)} executions have events but no row")

    by_number = {
        (e["tenant_id"], e["job_id"], e["device_id"], e["execution_number"]): e["to_status"] for e in events
    }
    lost = 0
    for ack in acks or []:
        if by_number.get((ack.tenant_id, ack.job_id, ack.device_id, ack.number)) != ack.status:
            lost += 1
            if lost <= 10:
                problems.append(f"{LOST_ACK}: {ack}")
    return problems, {"jobs": len(jobs), "executions": len(executions), "events": len(events), "lost": lost}


async def check_all(conn: asyncpg.Connection, acks: list[Ack] | None = None) -> dict[str, int]:
    """Raises AssertionError listing every broken invariant; returns a few totals."""
    problems, totals = await find_problems(conn, acks)
    assert not problems, f"{len(problems)} invariant violations:\n" + "\n".join(problems[:40])
    return totals


async def check_settled(owner_url: str, acks: list[Ack]) -> dict[str, int]:
    """After a fleet has run to the end: every invariant holds, every acknowledged update is stored, and
    every job has completed. Returns check_all's totals."""
    owner = await connect(owner_url)
    try:
        totals = await check_all(owner, acks)
        left = await owner.fetchval("SELECT count(*) FROM jobs WHERE status <> 'COMPLETED'")
    finally:
        await owner.close()
    assert left == 0, f"{left} jobs did not complete"
    return totals

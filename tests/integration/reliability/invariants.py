"""Database-level invariants of the jobs system, read with the owner role (sees every tenant)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import asyncpg

from shared.infra.db import connect
from shared.jobs.states import COUNTER_COLUMNS
from shared.jobs.states import TERMINAL as TERMINAL_STATUSES

TERMINAL = {s.value for s in TERMINAL_STATUSES}
COLS = tuple(COUNTER_COLUMNS.values())


@dataclass(frozen=True)
class Ack:
    """An update the API acknowledged with 200: the execution reached `status` at `number`."""

    tenant_id: str
    job_id: str
    device_id: str
    number: int
    status: str


async def check_all(conn: asyncpg.Connection, acks: list[Ack] | None = None) -> dict[str, int]:
    """Raises AssertionError listing every broken invariant; returns a few totals."""
    problems: list[str] = []
    real = await conn.fetch(
        "SELECT tenant_id, job_id, lower(status) AS s, count(*)::int AS n FROM job_executions GROUP BY 1, 2, 3"
    )
    real_counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLS, 0))
    for r in real:
        real_counts[(r["tenant_id"], r["job_id"])][r["s"]] = r["n"]
    sums = ", ".join(f"coalesce(sum(c.{c}), 0)::int AS {c}" for c in COLS)
    jobs = await conn.fetch(
        f"SELECT j.tenant_id, j.job_id, j.status, j.execution_count, {sums} FROM jobs j "
        "LEFT JOIN job_counters c ON c.tenant_id = j.tenant_id AND c.job_id = j.job_id GROUP BY 1, 2, 3, 4"
    )
    for j in jobs:
        key = (j["tenant_id"], j["job_id"])
        real_c = real_counts[key]
        counted = {c: j[c] for c in COLS}
        if counted != real_c:
            problems.append(f"job {key}: counters {counted} != real {real_c}")
        if j["execution_count"] != sum(real_c.values()):
            problems.append(f"job {key}: execution_count {j['execution_count']} != {sum(real_c.values())}")
        active = real_c["queued"] + real_c["in_progress"]
        if j["status"] == "COMPLETED" and active:
            problems.append(f"job {key}: COMPLETED with {active} active executions")
        if j["status"] == "IN_PROGRESS" and not active:
            problems.append(f"job {key}: all executions terminal but still IN_PROGRESS")

    executions = {
        (r["tenant_id"], r["job_id"], r["device_id"]): (r["status"], r["execution_number"])
        for r in await conn.fetch(
            "SELECT tenant_id, job_id, device_id, status, execution_number FROM job_executions"
        )
    }
    chains: dict[tuple[str, str, str], list[asyncpg.Record]] = defaultdict(list)
    events = await conn.fetch(
        "SELECT tenant_id, job_id, device_id, from_status, to_status, execution_number, actor "
        "FROM job_execution_events ORDER BY event_id"
    )
    for ev in events:
        chains[(ev["tenant_id"], ev["job_id"], ev["device_id"])].append(ev)
    for key, (status, number) in executions.items():
        chain = chains.pop(key, [])
        numbers = [e["execution_number"] for e in chain]
        if numbers != list(range(2, number + 1)):
            problems.append(f"execution {key}: event numbers {numbers} for execution_number {number}")
        prev = "QUEUED"
        for e in chain:
            if e["from_status"] != prev:
                problems.append(f"execution {key}: event {e['from_status']}->{e['to_status']} after {prev}")
            if e["from_status"] in TERMINAL:
                problems.append(f"execution {key}: changed after terminal {e['from_status']}")
            prev = e["to_status"]
        if prev != status:
            problems.append(f"execution {key}: history ends in {prev}, row says {status}")
    if chains:
        problems.append(f"{len(chains)} executions have events but no row")

    by_number = {
        (e["tenant_id"], e["job_id"], e["device_id"], e["execution_number"]): e["to_status"] for e in events
    }
    lost = 0
    for ack in acks or []:
        if by_number.get((ack.tenant_id, ack.job_id, ack.device_id, ack.number)) != ack.status:
            lost += 1
            if lost <= 10:
                problems.append(f"acknowledged update not in history: {ack}")
    assert not problems, f"{len(problems)} invariant violations:\n" + "\n".join(problems[:40])
    return {"jobs": len(jobs), "executions": len(executions), "events": len(events), "lost": lost}


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

"""Bulk bench data, made with set-based SQL as the table owner (never through HTTP): tenants, devices
with known provision tokens, groups, and jobs with their executions and counter shards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.env import BENCH_SECRET
from shared.auth import Principal, issue_token
from shared.infra.db import SET_TENANT, connect
from shared.jobs.queries import SHARDS
from shared.tenants import create_tenant, upsert_user

SEED_DEVICES = """
INSERT INTO device_state (tenant_id, device_id, name, token_hash)
SELECT $1, $2 || '-' || lpad(i::text, 7, '0'), '', encode(sha256(convert_to($3 || i::text, 'UTF8')), 'hex')
  FROM generate_series($4::int, $5::int) AS i
"""

SEED_MEMBERS = """
INSERT INTO device_group_members (tenant_id, group_id, device_id)
SELECT $1, $2, $3 || '-' || lpad(i::text, 7, '0') FROM generate_series(1, $4::int) AS i
"""

SEED_JOB = """
INSERT INTO jobs (tenant_id, job_id, document_type, document_params, target_group_id, execution_count,
                  expires_at, created_at, updated_at)
VALUES ($1, $2, 'bench', '{"k": 1}'::jsonb, 'bench', $3, $4, $5, $5)
"""

SEED_EXECUTIONS = f"""
INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, shard, queued_at,
                            last_updated_at)
SELECT $1, $2, $3 || '-' || lpad(i::text, 7, '0'), $5, 1, (i - 1) % {SHARDS}, $6, $6
  FROM generate_series(1, $4::int) AS i
"""

# Status column names come from a fixed list below, never from input.
SEED_COUNTERS = """
INSERT INTO job_counters (tenant_id, job_id, shard, {col})
SELECT $1, $2, s, ($3 - s + {shards} - 1) / {shards} FROM generate_series(0, least($3, {shards}) - 1) AS s
"""
COUNTER_COL = {"QUEUED": "queued", "IN_PROGRESS": "in_progress", "SUCCEEDED": "succeeded"}


def device_token(tenant_id: str, i: int) -> str:
    """The provision token of bench device i (1-based) of a tenant."""
    return f"bt-{tenant_id}-{i}"


def device_id(prefix: str, i: int) -> str:
    return f"{prefix}-{i:07d}"


async def seed_tenant(owner: asyncpg.Connection, tenant_id: str) -> None:
    await create_tenant(owner, tenant_id, tenant_id)


async def seed_devices(
    owner: asyncpg.Connection, tenant_id: str, n: int, prefix: str = "dev", start: int = 1
) -> None:
    await owner.execute(SEED_DEVICES, tenant_id, prefix, f"bt-{tenant_id}-", start, n)


async def seed_group(
    owner: asyncpg.Connection, tenant_id: str, group_id: str, n: int, prefix: str = "dev"
) -> None:
    await owner.execute(
        "INSERT INTO device_groups (tenant_id, group_id, name) VALUES ($1, $2, $2)", tenant_id, group_id
    )
    await owner.execute(SEED_MEMBERS, tenant_id, group_id, prefix, n)


async def seed_job(
    owner: asyncpg.Connection,
    tenant_id: str,
    job_id: str,
    n: int,
    *,
    prefix: str = "dev",
    status: str = "QUEUED",
    expires_at: datetime | None = None,
    created_at: datetime | None = None,
) -> None:
    """A job of n executions (devices prefix-1..n, which need not exist) with exact counter shards."""
    at = created_at or datetime.now(UTC)
    async with owner.transaction():
        await owner.execute(SEED_JOB, tenant_id, job_id, n, expires_at, at)
        await owner.execute(SEED_EXECUTIONS, tenant_id, job_id, prefix, n, status, at)
        sql = SEED_COUNTERS.format(col=COUNTER_COL[status], shards=SHARDS)
        await owner.execute(sql, tenant_id, job_id, n)


async def admin_token(app_url: str, tenant_id: str) -> str:
    """A bearer token of a fresh admin of `tenant_id` (signed with the bench servers' secret)."""
    conn = await connect(app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant_id)
            user: dict[str, Any] = await upsert_user(
                conn, tenant_id, f"admin@{tenant_id}.bench", "bench-pass-1", "admin"
            )
    finally:
        await conn.close()
    principal = Principal(tenant_id=tenant_id, user_id=user["user_id"], email=user["email"], role="admin")
    return issue_token(principal, BENCH_SECRET, 3600 * 6)


async def truncate_jobs(owner: asyncpg.Connection) -> None:
    """Every job and what hangs off it (executions, counters, history, failure counts by minute)."""
    await owner.execute(
        "TRUNCATE jobs, job_executions, job_counters, job_execution_events, job_failure_minutes"
    )

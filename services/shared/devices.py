"""Devices (rows of device_state): registration, listing, provision tokens. Tenant-scoped connections.
Writes take the caller's `now` (the request's clock) and bind it: no statement reads the database's clock."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared import quotas
from shared.auth import new_provision_token, token_hash
from shared.errors import Conflict, NotFound
from shared.infra.db import TENANT_SQL
from shared.jobs import continuous
from shared.selection import escape_like as escape_like  # the devices list's, re-exported
from shared.selection import matching_sql

# "Online": an ACTIVE device heard from within the window. The one definition, in Python (is_online, for a
# device's row) and in SQL (ONLINE_SQL, a condition on device_state with the window's start as a parameter).
ONLINE_WINDOW = timedelta(minutes=5)
ONLINE_SQL = "(status = 'ACTIVE' AND last_seen_at > {since})"


def is_online(status: str, last_seen_at: datetime | None, now: datetime) -> bool:
    return status == "ACTIVE" and last_seen_at is not None and last_seen_at > now - ONLINE_WINDOW


DEVICE_COLUMNS = """device_id, name, attributes, status, last_seen_at, desired_version, reported_version,
    created_at, updated_at, thing_name"""

INSERT_DEVICE = f"""
INSERT INTO device_state (tenant_id, device_id, name, attributes, token_hash, created_at, updated_at)
VALUES ({TENANT_SQL}, $1, $2, $3, $4, $5, $5)
ON CONFLICT (tenant_id, device_id) DO NOTHING
RETURNING {DEVICE_COLUMNS}
"""

SELECT_DEVICE = f"SELECT {DEVICE_COLUMNS} FROM device_state WHERE device_id = $1"

DEVICE_EXISTS = "SELECT 1 FROM device_state WHERE device_id = $1"

# $1: search text or NULL (matches id or name, case-insensitive), $2: status or NULL (shared/selection.py)
LIST_DEVICES = f"""
SELECT {DEVICE_COLUMNS}, count(*) OVER () AS total
  FROM device_state d
 WHERE {matching_sql("$1", "$2")}
 ORDER BY created_at DESC, device_id
 LIMIT $3 OFFSET $4
"""

COUNT_DEVICES = f"SELECT count(*) FROM device_state d WHERE {matching_sql('$1', '$2')}"

PATCH_DEVICE = f"""
UPDATE device_state
   SET name = COALESCE($2, name),
       attributes = CASE WHEN $3::jsonb IS NULL THEN attributes ELSE attributes || $3::jsonb END,
       updated_at = $4
 WHERE device_id = $1
RETURNING {DEVICE_COLUMNS}
"""

REVOKE_DEVICE = f"""
UPDATE device_state SET status = 'REVOKED', updated_at = $2 WHERE device_id = $1
RETURNING {DEVICE_COLUMNS}
"""

ROTATE_TOKEN = f"""
UPDATE device_state SET token_hash = $2, updated_at = $3 WHERE device_id = $1
RETURNING {DEVICE_COLUMNS}
"""


def new_device_id() -> str:
    return "dev-" + secrets.token_hex(6)


async def create_device(
    conn: asyncpg.Connection, device_id: str | None, name: str, attributes: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], str]:
    """Registers a device. Returns its row and its provision token (shown this once only). The fleet's running
    continuous jobs get an execution for it in the same transaction. 403 when the tenant's ACTIVE devices are
    at their quota."""
    await quotas.check_new_device(conn)
    token = new_provision_token()
    await continuous.lock_target(conn, None, exclusive=False)
    row = await conn.fetchrow(
        INSERT_DEVICE, device_id or new_device_id(), name, attributes, token_hash(token), now
    )
    if row is None:
        raise Conflict(f"device {device_id!r} already exists")
    await continuous.join(conn, now, None, [row["device_id"]])
    return dict(row), token


async def device_exists(conn: asyncpg.Connection, device_id: str) -> bool:
    return await conn.fetchval(DEVICE_EXISTS, device_id) is not None


async def get_device(conn: asyncpg.Connection, device_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(SELECT_DEVICE, device_id)
    if row is None:
        raise NotFound(f"device {device_id!r} not found")
    return dict(row)


async def list_devices(
    conn: asyncpg.Connection, q: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    pattern = escape_like(q) if q else None
    rows = await conn.fetch(LIST_DEVICES, pattern, status, limit, offset)
    if rows:
        total = int(rows[0]["total"])
    else:
        total = int(await conn.fetchval(COUNT_DEVICES, pattern, status))
    return [{k: v for k, v in dict(r).items() if k != "total"} for r in rows], total


async def patch_device(
    conn: asyncpg.Connection,
    device_id: str,
    name: str | None,
    attributes: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    row = await conn.fetchrow(PATCH_DEVICE, device_id, name, attributes, now)
    if row is None:
        raise NotFound(f"device {device_id!r} not found")
    return dict(row)


async def revoke_device(conn: asyncpg.Connection, device_id: str, now: datetime) -> dict[str, Any]:
    """Revokes the device. It leaves the target of every continuous job (fleet or group): its QUEUED
    executions of them become REMOVED in the same transaction."""
    await continuous.lock_device_targets(conn, device_id)
    row = await conn.fetchrow(REVOKE_DEVICE, device_id, now)
    if row is None:
        raise NotFound(f"device {device_id!r} not found")
    await continuous.leave(conn, now, None, [device_id], "device_revoked")
    return dict(row)


async def rotate_token(conn: asyncpg.Connection, device_id: str, now: datetime) -> tuple[dict[str, Any], str]:
    token = new_provision_token()
    row = await conn.fetchrow(ROTATE_TOKEN, device_id, token_hash(token), now)
    if row is None:
        raise NotFound(f"device {device_id!r} not found")
    return dict(row), token

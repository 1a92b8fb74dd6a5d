"""Continuous jobs (AWS IoT Jobs' targetSelection CONTINUOUS): the membership side. A change of a group's
members, a device's creation or revocation calls these in its own tenant transaction, so a device that joins
the target of a running continuous job gets its QUEUED execution, and one that leaves it has its QUEUED
execution moved to REMOVED, in the same commit (db/functions/070_continuous.sql holds the set-based SQL)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

# The target's advisory lock: shared for a membership change, exclusive for a continuous job's creation.
TARGET_LOCK = "SELECT iotcloud.target_lock($1, $2)"
JOIN = "SELECT iotcloud.continuous_join($1, $2, $3)"
LEAVE = "SELECT iotcloud.continuous_leave($1, $2, $3, $4)"
GROUP_GONE = "SELECT iotcloud.continuous_group_gone($1, $2)"
# A revocation leaves every target the device is in: the fleet and its groups (locked in key order).
LOCK_DEVICE_TARGETS = "SELECT iotcloud.lock_device_targets($1)"


async def lock_target(conn: asyncpg.Connection, group_id: str | None, *, exclusive: bool) -> None:
    """Serializes a change of the target's members (shared) with a continuous job's creation (exclusive):
    group `group_id`, or the fleet when None. Take it before reading or changing the members."""
    await conn.execute(TARGET_LOCK, group_id, exclusive)


async def join(conn: asyncpg.Connection, now: datetime, group_id: str | None, device_ids: list[str]) -> int:
    """Devices joined group `group_id` (None: the fleet): executions for the target's running continuous
    jobs. Returns how many were created."""
    return int(await conn.fetchval(JOIN, now, group_id, device_ids))


async def leave(
    conn: asyncpg.Connection, now: datetime, group_id: str | None, device_ids: list[str], reason: str
) -> int:
    """Devices left group `group_id` (None: every target, a revocation): their QUEUED executions of its
    continuous jobs become REMOVED. Returns how many moved."""
    return int(await conn.fetchval(LEAVE, now, group_id, device_ids, reason))


async def group_gone(conn: asyncpg.Connection, now: datetime, group_id: str) -> int:
    """Every member leaves the group (it is being deleted)."""
    return int(await conn.fetchval(GROUP_GONE, now, group_id))


async def lock_device_targets(conn: asyncpg.Connection, device_id: str) -> None:
    """Before a revocation: the fleet's lock and those of the device's groups, shared, in key order."""
    await conn.execute(LOCK_DEVICE_TARGETS, device_id)

"""Device groups and their members. Tenant-scoped connections."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import asyncpg

from shared.devices import escape_like
from shared.errors import BadRequest, Conflict, NotFound
from shared.infra.db import TENANT_SQL
from shared.jobs import continuous
from shared.selection import Selection, matching_sql

GROUP_COLUMNS = "g.group_id, g.name, g.description, g.created_at"

INSERT_GROUP = f"""
INSERT INTO device_groups (tenant_id, group_id, name, description)
VALUES ({TENANT_SQL}, $1, $2, $3)
ON CONFLICT (tenant_id, group_id) DO NOTHING
RETURNING group_id, name, description, created_at, 0::bigint AS member_count
"""

LIST_GROUPS = f"""
SELECT {GROUP_COLUMNS},
       (SELECT count(*) FROM device_group_members m WHERE m.group_id = g.group_id) AS member_count,
       count(*) OVER () AS total
  FROM device_groups g
 WHERE ($1::text IS NULL OR g.name ILIKE '%' || $1 || '%' OR g.group_id ILIKE '%' || $1 || '%')
 ORDER BY g.name, g.group_id
 LIMIT $2 OFFSET $3
"""

COUNT_GROUPS = """
SELECT count(*) FROM device_groups g
 WHERE ($1::text IS NULL OR g.name ILIKE '%' || $1 || '%' OR g.group_id ILIKE '%' || $1 || '%')
"""

SELECT_GROUP = f"""
SELECT {GROUP_COLUMNS},
       (SELECT count(*) FROM device_group_members m WHERE m.group_id = g.group_id) AS member_count
  FROM device_groups g WHERE g.group_id = $1
"""

LIST_MEMBERS = """
SELECT d.device_id, d.name, d.status, d.last_seen_at, m.added_at
  FROM device_group_members m JOIN device_state d USING (tenant_id, device_id)
 WHERE m.group_id = $1
 ORDER BY d.device_id
 LIMIT $2 OFFSET $3
"""

DELETE_GROUP = "DELETE FROM device_groups WHERE group_id = $1 RETURNING group_id"

# Set-based: one statement whatever the number of ids. Unknown ids are reported back, not inserted.
ADD_MEMBERS = f"""
WITH wanted AS (SELECT DISTINCT unnest($2::text[]) AS device_id),
     known AS (SELECT d.device_id FROM device_state d JOIN wanted w USING (device_id)),
     ins AS (
        INSERT INTO device_group_members (tenant_id, group_id, device_id)
        SELECT {TENANT_SQL}, $1, device_id FROM known
        ON CONFLICT DO NOTHING
        RETURNING device_id)
SELECT (SELECT count(*) FROM ins) AS added,
       (SELECT coalesce(array_agg(w.device_id ORDER BY w.device_id), '{{}}')
          FROM wanted w WHERE w.device_id NOT IN (SELECT device_id FROM known)) AS unknown
"""

# Every device matching the devices list's filter ($2 pattern, $3 status) joins group $1: one statement
# whatever the fleet's size.
ADD_MATCHING = f"""
WITH ins AS (
    INSERT INTO device_group_members (tenant_id, group_id, device_id)
    SELECT {TENANT_SQL}, $1, d.device_id FROM device_state d WHERE {matching_sql("$2", "$3")}
    ON CONFLICT DO NOTHING
    RETURNING device_id)
SELECT count(*) FROM ins
"""

# The group's running continuous jobs reach the matching devices that joined it (the array is built in SQL).
JOIN_MATCHING = f"""
SELECT iotcloud.continuous_join($1, $2, ARRAY(
    SELECT d.device_id FROM device_state d WHERE {matching_sql("$3", "$4")} AND d.status = 'ACTIVE'))
"""

REMOVE_MEMBER = "DELETE FROM device_group_members WHERE group_id = $1 AND device_id = $2 RETURNING device_id"

GROUP_EXISTS = "SELECT 1 FROM device_groups WHERE group_id = $1"

IS_MEMBER = "SELECT 1 FROM device_group_members WHERE group_id = $1 AND device_id = $2"


def new_group_id() -> str:
    return "grp-" + secrets.token_hex(5)


async def group_exists(conn: asyncpg.Connection, group_id: str) -> bool:
    return await conn.fetchval(GROUP_EXISTS, group_id) is not None


async def is_member(conn: asyncpg.Connection, group_id: str, device_id: str) -> bool:
    return await conn.fetchval(IS_MEMBER, group_id, device_id) is not None


async def create_group(
    conn: asyncpg.Connection, group_id: str | None, name: str, description: str
) -> dict[str, Any]:
    row = await conn.fetchrow(INSERT_GROUP, group_id or new_group_id(), name, description)
    if row is None:
        raise Conflict(f"group {group_id!r} already exists")
    return dict(row)


async def list_groups(
    conn: asyncpg.Connection, q: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    pattern = escape_like(q) if q else None
    rows = await conn.fetch(LIST_GROUPS, pattern, limit, offset)
    total = int(rows[0]["total"]) if rows else int(await conn.fetchval(COUNT_GROUPS, pattern))
    return [{k: v for k, v in dict(r).items() if k != "total"} for r in rows], total


async def get_group(
    conn: asyncpg.Connection, group_id: str, limit: int = 500, offset: int = 0
) -> dict[str, Any]:
    row = await conn.fetchrow(SELECT_GROUP, group_id)
    if row is None:
        raise NotFound(f"group {group_id!r} not found")
    members = await conn.fetch(LIST_MEMBERS, group_id, limit, offset)
    return {**dict(row), "members": [dict(m) for m in members]}


async def delete_group(conn: asyncpg.Connection, group_id: str, now: datetime) -> None:
    """Deletes the group; its members leave it first (their QUEUED executions of its continuous jobs become
    REMOVED, in this transaction)."""
    await continuous.lock_target(conn, group_id, exclusive=False)
    await continuous.group_gone(conn, now, group_id)
    if await conn.fetchval(DELETE_GROUP, group_id) is None:
        raise NotFound(f"group {group_id!r} not found")


async def add_members(
    conn: asyncpg.Connection, group_id: str, device_ids: list[str], now: datetime
) -> dict[str, Any]:
    """Adds the devices (set-based); each running continuous job of the group gets a QUEUED execution for
    each of them that is ACTIVE and had none, in the same transaction."""
    return await add_selection(conn, group_id, Selection(device_ids=device_ids), now)


async def add_selection(
    conn: asyncpg.Connection, group_id: str, selection: Selection, now: datetime
) -> dict[str, Any]:
    """Adds the selected devices: listed ids (400 naming those that are not the tenant's; nothing is added)
    or every device matching a filter (one INSERT ... SELECT). Each running continuous job of the group gets
    a QUEUED execution for each added device that is ACTIVE and had none, in the same transaction."""
    if not await group_exists(conn, group_id):
        raise NotFound(f"group {group_id!r} not found")
    await continuous.lock_target(conn, group_id, exclusive=False)
    if selection.device_ids is not None:
        row = await conn.fetchrow(ADD_MEMBERS, group_id, selection.device_ids)
        assert row is not None
        unknown = list(row["unknown"])
        if unknown:
            raise BadRequest(f"unknown device ids: {', '.join(unknown[:20])}", unknown_device_ids=unknown)
        added = int(row["added"])
        queued = await continuous.join(conn, now, group_id, selection.device_ids)
    else:
        pattern, status = selection.filter_params()
        added = int(await conn.fetchval(ADD_MATCHING, group_id, pattern, status))
        queued = int(await conn.fetchval(JOIN_MATCHING, now, group_id, pattern, status))
    return {"group_id": group_id, "added": added, "queued_executions": queued}


async def remove_member(conn: asyncpg.Connection, group_id: str, device_id: str, now: datetime) -> None:
    """Removes the device; its QUEUED executions of the group's continuous jobs become REMOVED."""
    if not await group_exists(conn, group_id):
        raise NotFound(f"group {group_id!r} not found")
    await continuous.lock_target(conn, group_id, exclusive=False)
    if await conn.fetchval(REMOVE_MEMBER, group_id, device_id) is None:
        raise NotFound(f"device {device_id!r} is not a member of group {group_id!r}")
    await continuous.leave(conn, now, group_id, [device_id], "removed_from_group")

"""The operator audit log: who did what to which target, one row per action, written with `record` in the
transaction of the action itself (so an action and its audit row commit or roll back together). The table
is append-only for the runtime role. Actions are named `<target>.<verb>` (AUDIT_ACTIONS lists those
recorded today; a new kind of action just passes its own name)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.infra.db import TENANT_SQL

CLI = "cli"  # the actor of admin commands run on the host (`iotcloud ...`)

# The actions recorded today (docs/audit.md describes each one's details).
AUDIT_ACTIONS = (
    "job.created",
    "job.canceled",
    "job.deleted",
    "job.updated",
    "execution.canceled",
    "execution.deleted",
    "template.created",
    "template.deleted",
    "device.revoked",
    "device.token_rotated",
    "twin.edited",
    "artifact.uploaded",
    "artifact.deleted",
    "access_key.created",
    "access_key.revoked",
)

# Something to run in an operation's own transaction, for operations that open theirs (a batched cancel or
# delete): `lambda conn: audit.record(conn, ...)`.
AuditHook = Callable[[asyncpg.Connection], Awaitable[None]]

INSERT_AUDIT = f"""
INSERT INTO audit_log (tenant_id, at, actor, actor_user_id, action, target_type, target_id, details)
VALUES ({TENANT_SQL}, coalesce($1, now()), $2, $3, $4, $5, $6, $7)
"""

LIST_AUDIT = """
SELECT audit_id, at, actor, actor_user_id::text AS actor_user_id, action, target_type, target_id, details
  FROM audit_log
 WHERE ($1::bigint IS NULL OR audit_id < $1)
   AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR target_type = $3)
   AND ($4::text IS NULL OR target_id = $4) AND ($5::text IS NULL OR actor = $5)
   AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
 ORDER BY audit_id DESC
 LIMIT $8
"""


async def record(
    conn: asyncpg.Connection,
    actor: Principal | str,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """One audit row in `conn`'s (tenant) transaction. `actor`: the operator's token principal (recorded by
    e-mail, and user id), or a name such as CLI. `now`: the action's time (default: the database's)."""
    if isinstance(actor, Principal):
        name, user_id = actor.email or actor.user_id, actor.user_id
    else:
        name, user_id = actor, None
    await conn.execute(INSERT_AUDIT, now, name, user_id, action, target_type, target_id, details or {})


async def list_entries(
    conn: asyncpg.Connection,
    *,
    limit: int,
    after: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Newest first; `next_after` (the last entry's audit_id, or None at the end) continues the page."""
    rows = await conn.fetch(LIST_AUDIT, after, action, target_type, target_id, actor, since, until, limit + 1)
    entries = [dict(r) for r in rows[:limit]]
    return {
        "entries": entries,
        "limit": limit,
        "next_after": entries[-1]["audit_id"] if len(rows) > limit else None,
    }

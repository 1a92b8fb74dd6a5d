"""Forcing an interleaving: wait until statements of other sessions are queued on a lock the test holds."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg


async def waiting_on_locks(admin: asyncpg.Connection, database: str) -> int:
    """Sessions of `database` waiting on a heavyweight lock (row locks queue as tuple/transaction waits).
    `admin` must be a superuser connection: it sees every role's wait events."""
    return int(
        await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", database
        )
    )


async def until_waiting(
    admin: asyncpg.Connection, database: str, n: int, task: asyncio.Task[Any], timeout: float = 15
) -> None:
    """Returns once `n` sessions wait on locks; fails if `task` finished instead (it did not wait)."""
    deadline = time.monotonic() + timeout
    while await waiting_on_locks(admin, database) < n:
        assert not task.done(), f"finished without waiting on the lock: {task.result()!r}"
        assert time.monotonic() < deadline, f"fewer than {n} statements waiting on a lock after {timeout}s"
        await asyncio.sleep(0.01)

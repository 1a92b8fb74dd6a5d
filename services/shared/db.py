"""Connection pool and the one place where a transaction gets its tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
import orjson

Connection = asyncpg.Connection
Pool = asyncpg.Pool

SET_TENANT = "SELECT set_config('app.tenant_id', $1, true)"

# What a request can meet while PostgreSQL is down, restarting or out of connections: the services turn
# these into 503 "retry later" (nothing was stored). InternalClientError is what asyncpg raises when a
# connection that the server has just shut down is reused before asyncpg has noticed that it is gone.
DB_UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection lost or refused
    asyncpg.OperatorInterventionError,  # class 57: admin/crash shutdown, cannot connect now, canceled
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, out of memory or disk
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
    OSError,
    TimeoutError,
)
# ... and every error a background loop survives by retrying on its next turn.
DB_ERRORS: tuple[type[Exception], ...] = (*DB_UNAVAILABLE, asyncpg.PostgresError)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("jsonb", "json"):
        await conn.set_type_codec(typ, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        command_timeout=60,
        max_inactive_connection_lifetime=300,
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


@asynccontextmanager
async def tenant_tx(pool: asyncpg.Pool, tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which RLS shows only `tenant_id`'s rows (set_config(..., is_local => true))."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(SET_TENANT, tenant_id)
        yield cast(asyncpg.Connection, conn)


@asynccontextmanager
async def tx(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A transaction with no tenant: RLS shows nothing; only SECURITY DEFINER functions see across."""
    async with pool.acquire() as conn, conn.transaction():
        yield cast(asyncpg.Connection, conn)


async def ping(pool: asyncpg.Pool, timeout: float = 2.0) -> bool:
    try:
        async with pool.acquire(timeout=timeout) as conn:
            await conn.fetchval("SELECT 1", timeout=timeout)
        return True
    except DB_ERRORS:
        return False

"""Connection pool and the one place where a transaction gets its tenant."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import asyncpg
import orjson

log = logging.getLogger("iotcloud.db")
T = TypeVar("T")

Connection = asyncpg.Connection
Pool = asyncpg.Pool

SET_TENANT = "SELECT set_config('app.tenant_id', $1, true)"
# The transaction's tenant, in SQL: what a statement writes into tenant_id (RLS checks it matches).
TENANT_SQL = "current_setting('app.tenant_id')"

# What a request can meet while PostgreSQL is down, restarting or out of connections: the services turn
# these into 503 "retry later" (nothing was stored). InternalClientError is what asyncpg raises when a
# connection that the server has just shut down is reused before asyncpg has noticed that it is gone.
DB_UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection lost or refused
    asyncpg.OperatorInterventionError,  # class 57: admin/crash shutdown, cannot connect now, canceled
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, out of memory or disk
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,  # ConnectionError and socket errors included
    TimeoutError,
)
# A transaction that lost to a concurrent one (deadlock, serialization failure): worth retrying as a whole.
TX_CONFLICTS: tuple[type[Exception], ...] = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
# ... and every error a background loop survives by retrying on its next turn.
DB_ERRORS: tuple[type[Exception], ...] = (*DB_UNAVAILABLE, asyncpg.PostgresError)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("jsonb", "json"):
        await conn.set_type_codec(typ, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without the session reset statement (RESET ALL, UNLISTEN *, advisory unlocks): one
    round trip less per request. asyncpg still rolls back a transaction left open before calling this."""


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 20,
    session_state: bool = True,
    transaction_pooler: bool = False,
) -> asyncpg.Pool:
    """`session_state=False` is for the API services, whose requests leave nothing in the session: the
    tenant is set with set_config(..., is_local => true), which ends with its transaction, and they take
    no session advisory locks and LISTEN to nothing (tests/integration/test_db_pool.py checks this).
    `transaction_pooler`: the DSN goes through PgBouncer in transaction pooling mode, where a named prepared
    statement does not outlive its transaction's server connection: asyncpg's statement cache is off."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=None if session_state else _keep_session,
        command_timeout=60,
        max_inactive_connection_lifetime=300,
        statement_cache_size=0 if transaction_pooler else 100,
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


# A device's transaction gets its tenant from its provision token (db/functions/030_device_calls.sql):
# an unknown or revoked token raises asyncpg.InvalidAuthorizationSpecificationError (SQLSTATE 28000).
DEVICE_SESSION = "SELECT tenant_id, device_id FROM iotcloud.device_session($1, $2, $3)"


@dataclass(slots=True)
class DeviceSession:
    tenant_id: str
    device_id: str
    conn: asyncpg.Connection


@asynccontextmanager
async def device_tx(
    pool: asyncpg.Pool, token_hash: str, seen_interval: int, now: datetime
) -> AsyncIterator[DeviceSession]:
    """A transaction in which RLS shows only the tenant of the device whose token hashes to `token_hash`."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(DEVICE_SESSION, token_hash, seen_interval, now)
        assert row is not None
        yield DeviceSession(row["tenant_id"], row["device_id"], cast(asyncpg.Connection, conn))


async def retrying_tenant_tx(
    pool: asyncpg.Pool, tenant_id: str, work: Callable[[asyncpg.Connection], Awaitable[T]], attempts: int = 5
) -> T:
    """Runs `work` in a tenant transaction, again from the start when it loses to a concurrent one."""
    for attempt in range(attempts):
        try:
            async with tenant_tx(pool, tenant_id) as conn:
                return await work(conn)
        except TX_CONFLICTS:
            if attempt == attempts - 1:
                raise
            log.info("transaction of tenant %s retried after a lock conflict", tenant_id)
    raise AssertionError("unreachable")


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

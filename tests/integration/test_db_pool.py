"""The API services' pools skip asyncpg's session reset on release (one round trip less per request).
That is safe only if no request leaves anything in the session: these tests run each way a request uses
a connection on a one-connection pool, then look at what the next request would get."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.auth import token_hash
from shared.infra.db import create_pool, device_tx, tenant_tx
from shared.jobs import queries as q
from shared.web.service_app import utcnow
from tests.conftest import Services, Tenant

SETTING = "SELECT current_setting('app.tenant_id', true)"


@pytest.fixture
async def pool(services: Services) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(services.db.app_url, min_size=1, max_size=1, session_state=False)
    yield p
    await p.close()


async def _next_request_sees_a_clean_session(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval(SETTING) in (None, "")
        assert await conn.fetchval("SELECT count(*) FROM job_executions") == 0  # RLS: no tenant, no rows


async def test_operator_transaction_leaves_no_tenant(pool: asyncpg.Pool, tenant: Tenant) -> None:
    async with tenant_tx(pool, tenant.tenant_id) as conn:
        assert await conn.fetchval(SETTING) == tenant.tenant_id
    await _next_request_sees_a_clean_session(pool)


async def test_failed_transaction_is_rolled_back_and_leaves_no_tenant(
    pool: asyncpg.Pool, tenant: Tenant
) -> None:
    with pytest.raises(asyncpg.UndefinedTableError):
        async with tenant_tx(pool, tenant.tenant_id) as conn:
            await conn.execute("SELECT * FROM no_such_table")
    await _next_request_sees_a_clean_session(pool)


async def test_device_calls_leave_no_tenant(pool: asyncpg.Pool, tenant: Tenant) -> None:
    [device] = await tenant.create_devices(1, prefix="pool")
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "reboot", "target_device_id": device})
        assert r.status_code == 201, r.text
        job_id = r.json()["job_id"]
    hashed = token_hash(tenant.tokens[device])

    now = utcnow()
    rows = await pool.fetch(q.DEVICE_POLLS, [hashed], [now], 60, 10)  # autocommitted, one statement
    assert [r["job_id"] for r in rows] == [job_id]
    await _next_request_sees_a_clean_session(pool)

    async with device_tx(pool, hashed, 60, utcnow()) as session:
        assert session.device_id == device
        assert await session.conn.fetchval(SETTING) == tenant.tenant_id
    await _next_request_sees_a_clean_session(pool)

    assert (
        await pool.fetch(q.DEVICE_POLLS, [token_hash("not-a-token")], [now], 60, 10) == []
    )  # unknown: no row
    await _next_request_sees_a_clean_session(pool)

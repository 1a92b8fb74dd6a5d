"""Device API dependencies: X-Provision-Token auth and the device's tenant transaction, in one round trip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, cast

import asyncpg
from fastapi import Depends, Header, Request

from shared.auth import token_hash
from shared.errors import TooManyRequests, Unauthorized

# Authenticates by token hash (SECURITY DEFINER lookup) and sets the tenant for the transaction.
AUTH_AND_SET_TENANT = """
SELECT a.tenant_id, a.device_id, a.status, set_config('app.tenant_id', a.tenant_id, true)
  FROM iot_device_auth($1, $2) a
"""


@dataclass(slots=True)
class Device:
    tenant_id: str
    device_id: str
    conn: asyncpg.Connection


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def device_tx(
    request: Request,
    x_provision_token: Annotated[str | None, Header(max_length=512)] = None,
) -> AsyncIterator[Device]:
    limiter = request.app.state.auth_limiter
    key = client_key(request)
    if limiter.blocked(key):
        raise TooManyRequests("too many failed authentications, retry later")
    if not x_provision_token:
        limiter.fail(key)
        raise Unauthorized("missing X-Provision-Token header")
    pool: asyncpg.Pool = request.app.state.pool
    interval = request.app.state.settings.last_seen_interval_seconds
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(AUTH_AND_SET_TENANT, token_hash(x_provision_token), interval)
        if row is None or row["status"] != "ACTIVE":
            limiter.fail(key)
            raise Unauthorized("unknown or revoked provision token")
        yield Device(row["tenant_id"], row["device_id"], cast(asyncpg.Connection, conn))


# scope="function": the transaction commits before the response is sent, so a 200 means "stored"
# (FastAPI's default runs a yield dependency's exit after the response has gone out).
CurrentDevice = Annotated[Device, Depends(device_tx, scope="function")]

"""Operator API dependencies: the bearer token, and the one place a request's tenant transaction opens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from shared import ratelimits
from shared.auth import WRITE_ROLES, Principal, decode_token
from shared.errors import Forbidden, Unauthorized
from shared.infra.db import tenant_tx
from shared.observability.context import set_tenant
from shared.tenants import current_role
from shared.web.service_app import now_of

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def get_pool(request: Request) -> asyncpg.Pool:  # async: no thread-pool hop
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def get_principal(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """The caller, from the bearer token, counted against its rate limit (shared/ratelimits.py)."""
    if not token:
        raise Unauthorized("missing bearer token")
    principal = decode_token(token, request.app.state.secret)
    set_tenant(principal.tenant_id)
    state = request.app.state
    await ratelimits.check_user(state.pool, ratelimits.limits_of(state), principal.user_id, now_of(request))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]


@asynccontextmanager
async def _open(
    pool: asyncpg.Pool, principal: Principal, write: bool, admin: bool = False
) -> AsyncIterator[asyncpg.Connection]:
    """The tenant's transaction, once the user's role now (not the token's) allows the request."""
    async with tenant_tx(pool, principal.tenant_id) as conn:
        role = await current_role(conn, principal)
        if role is None:
            raise Unauthorized("user is disabled or no longer exists")
        if write and role not in WRITE_ROLES:
            raise Forbidden(f"role {role!r} may not change anything")
        if admin and role != "admin":
            raise Forbidden(f"role {role!r} may not manage users: only an admin may")
        yield conn


async def tenant_reader(pool: PoolDep, principal: CurrentPrincipal) -> AsyncIterator[asyncpg.Connection]:
    """A transaction scoped to the caller's tenant (RLS), for reads."""
    async with _open(pool, principal, write=False) as conn:
        yield conn


async def tenant_writer(pool: PoolDep, principal: CurrentPrincipal) -> AsyncIterator[asyncpg.Connection]:
    """A transaction scoped to the caller's tenant, for callers allowed to write (not viewers)."""
    async with _open(pool, principal, write=True) as conn:
        yield conn


async def tenant_admin(pool: PoolDep, principal: CurrentPrincipal) -> AsyncIterator[asyncpg.Connection]:
    """A transaction scoped to the caller's tenant, for admins only (users)."""
    async with _open(pool, principal, write=True, admin=True) as conn:
        yield conn


@dataclass(frozen=True, slots=True)
class TenantPool:
    """For operations that run several transactions of their own (a batched cancel): the pool and the
    caller's tenant, once the caller's right to write has been checked."""

    pool: asyncpg.Pool
    tenant_id: str


async def tenant_writer_pool(pool: PoolDep, principal: CurrentPrincipal) -> TenantPool:
    async with _open(pool, principal, write=True):
        pass
    return TenantPool(pool, principal.tenant_id)


# scope="function": the transaction commits before the response is sent, so a 2xx means "stored"
# (FastAPI's default runs a yield dependency's exit after the response has gone out).
ReadDB = Annotated[asyncpg.Connection, Depends(tenant_reader, scope="function")]
WriteDB = Annotated[asyncpg.Connection, Depends(tenant_writer, scope="function")]
AdminDB = Annotated[asyncpg.Connection, Depends(tenant_admin, scope="function")]
WriteTenant = Annotated[TenantPool, Depends(tenant_writer_pool)]

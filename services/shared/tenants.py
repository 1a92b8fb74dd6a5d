"""Tenants and their operators. Created by the CLI over the owner connection."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg

from shared.auth import ROLES, Principal, hash_password, verify_password
from shared.errors import BadRequest, Conflict, Unauthorized

INSERT_TENANT = """
INSERT INTO tenants (tenant_id, name) VALUES ($1, $2)
ON CONFLICT (tenant_id) DO UPDATE SET name = tenants.name
RETURNING tenant_id, name, created_at
"""

INSERT_USER = """
INSERT INTO users (tenant_id, email, password_hash, role) VALUES ($1, $2, $3, $4)
RETURNING user_id::text, tenant_id, email, role
"""

UPDATE_USER_LOGIN = """
UPDATE users SET password_hash = $3, role = $4, disabled = false
 WHERE tenant_id = $1 AND lower(email) = lower($2)
RETURNING user_id::text, tenant_id, email, role
"""

LOGIN_LOOKUP = (
    "SELECT tenant_id, user_id::text, email, password_hash, role, disabled FROM iotcloud.login_lookup($1)"
)

USER_BY_EMAIL = "SELECT tenant_id, user_id::text, email, role FROM users WHERE lower(email) = lower($1)"

USER_ROLE = "SELECT role FROM users WHERE tenant_id = $1 AND user_id = $2::uuid AND NOT disabled"

TENANT_EXISTS = "SELECT 1 FROM tenants WHERE tenant_id = $1"


DISABLED = "this user is disabled; an admin of the tenant can enable it again"

TENANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # as tenants_tenant_id_check in 001_core.sql


async def create_tenant(conn: asyncpg.Connection, tenant_id: str, name: str) -> dict[str, Any]:
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise BadRequest(
            f"tenant id {tenant_id!r}: 1-63 lowercase letters, digits and hyphens, not starting with a hyphen"
        )
    row = await conn.fetchrow(INSERT_TENANT, tenant_id, name)
    assert row is not None
    return dict(row)


async def tenant_exists(conn: asyncpg.Connection, tenant_id: str) -> bool:
    """Whether the tenant exists (owner connection, or the tenant's own transaction: RLS)."""
    return await conn.fetchval(TENANT_EXISTS, tenant_id) is not None


async def upsert_user(
    conn: asyncpg.Connection, tenant_id: str, email: str, password: str, role: str
) -> dict[str, Any]:
    """Creates the user, or resets an existing one's password and role (and enables it again)."""
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    pw_hash = await asyncio.to_thread(hash_password, password)
    # Across tenants (a SECURITY DEFINER lookup): e-mails are unique over the whole system, and RLS would
    # hide another tenant's user from this tenant's transaction.
    existing = await conn.fetchrow(LOGIN_LOOKUP, email)
    if existing is not None:
        if existing["tenant_id"] != tenant_id:
            raise Conflict(f"{email} already belongs to another tenant")
        row = await conn.fetchrow(UPDATE_USER_LOGIN, tenant_id, email, pw_hash, role)
    else:
        row = await conn.fetchrow(INSERT_USER, tenant_id, email, pw_hash, role)
    assert row is not None
    return dict(row)


async def principal_for_email(conn: asyncpg.Connection, email: str) -> Principal | None:
    row = await conn.fetchrow(USER_BY_EMAIL, email)
    if row is None:
        return None
    return Principal(tenant_id=row["tenant_id"], user_id=row["user_id"], email=row["email"], role=row["role"])


async def authenticate(conn: asyncpg.Connection, email: str, password: str) -> Principal:
    row = await conn.fetchrow(LOGIN_LOOKUP, email)
    ok = await asyncio.to_thread(verify_password, row["password_hash"] if row else None, password)
    if row is None or not ok:
        raise Unauthorized("incorrect e-mail or password")
    if row["disabled"]:
        raise Unauthorized(DISABLED)
    return Principal(tenant_id=row["tenant_id"], user_id=row["user_id"], email=row["email"], role=row["role"])


async def current_role(conn: asyncpg.Connection, principal: Principal) -> str | None:
    """The user's role now (None when the user was deleted or is disabled); run inside the tenant's
    transaction."""
    role: str | None = await conn.fetchval(USER_ROLE, principal.tenant_id, principal.user_id)
    return role

"""A tenant's operators, managed by its admins over the API (POST/GET/PATCH /customer/users). Every
statement runs in the admin's tenant transaction: RLS keeps other tenants' users out of sight. A new user
gets a generated password, shown once; only its argon2 hash is stored.

The tenant keeps at least one enabled admin: a PATCH first locks the tenant's enabled admins (FOR UPDATE, in
user_id order), so two admins demoting or disabling each other at once are decided one after the other and
the second is refused with 409."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import Conflict, Forbidden, NotFound
from shared.infra.db import TENANT_SQL

USER_COLUMNS = "user_id::text, email, role, disabled, created_at"

LIST_USERS = f"SELECT {USER_COLUMNS} FROM users ORDER BY created_at, email"

# E-mails are unique over the whole system (users_email_key): a taken one inserts nothing.
INSERT_USER = f"""
INSERT INTO users (tenant_id, email, password_hash, role, created_at) VALUES ({TENANT_SQL}, $1, $2, $3, $4)
ON CONFLICT ((lower(email))) DO NOTHING
RETURNING {USER_COLUMNS}
"""

LOCK_ADMINS = """
SELECT user_id::text FROM users WHERE role = 'admin' AND NOT disabled ORDER BY user_id FOR UPDATE
"""

LOCK_USER = "SELECT role, disabled FROM users WHERE user_id = $1::uuid FOR UPDATE"

UPDATE_USER = f"""
UPDATE users SET role = coalesce($2, role), disabled = coalesce($3, disabled) WHERE user_id = $1::uuid
RETURNING {USER_COLUMNS}
"""

PASSWORD_BYTES = 18  # 24 characters of token_urlsafe


async def list_users(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(LIST_USERS)]


async def create_user(
    conn: asyncpg.Connection,
    email: str,
    role: str,
    now: datetime,
    hasher: Callable[[str], Awaitable[str]],
) -> dict[str, Any]:
    """The new user, with `password`: generated here, returned this once. `hasher` makes its argon2 hash (the
    app's PasswordGate, which bounds how many run at once)."""
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    pw_hash = await hasher(password)
    row = await conn.fetchrow(INSERT_USER, email, pw_hash, role, now)
    if row is None:
        raise Conflict(f"the e-mail {email!r} is already taken")
    return {**dict(row), "password": password}


async def update_user(
    conn: asyncpg.Connection, caller_id: str, user_id: str, role: str | None, disabled: bool | None
) -> dict[str, Any]:
    """Changes a user's role and/or disabled flag. 404 for a user not in the tenant; 409 when the change
    would leave the tenant without an enabled admin; 403 when the caller stopped being an enabled admin
    while this request waited for its turn."""
    admins = {r["user_id"] for r in await conn.fetch(LOCK_ADMINS)}
    if caller_id not in admins:
        raise Forbidden("the caller is no longer an enabled admin")
    current = await conn.fetchrow(LOCK_USER, user_id)
    if current is None:
        raise NotFound(f"user {user_id!r} not found")
    still_admin = (role or current["role"]) == "admin" and not (
        disabled if disabled is not None else current["disabled"]
    )
    if user_id in admins and not still_admin and len(admins) == 1:
        raise Conflict(
            "this is the tenant's last enabled admin: make another user admin first",
            role=current["role"],
            disabled=current["disabled"],
        )
    row = await conn.fetchrow(UPDATE_USER, user_id, role, disabled)
    assert row is not None
    return dict(row)

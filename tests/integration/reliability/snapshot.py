"""A tenant's whole stored state, to prove that a rejected request changed nothing."""

from __future__ import annotations

from typing import Any

from shared.infra.db import connect
from tests.support.schema import TENANT_TABLES

TABLES = TENANT_TABLES


async def tenant_state(owner_url: str, tenant_id: str, ignore: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    conn = await connect(owner_url)
    try:
        out: dict[str, list[Any]] = {}
        for table in TABLES:
            rows = await conn.fetch(
                f"SELECT (to_jsonb(t) - $2::text[])::text AS r FROM {table} t WHERE tenant_id = $1",
                tenant_id,
                list(ignore),
            )
            out[table] = sorted(r["r"] for r in rows)
        return out
    finally:
        await conn.close()

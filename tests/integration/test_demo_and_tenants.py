"""`iotcloud demo` (ensure_demo) is idempotent, and `iotcloud create-user`'s tenant check (tenant_exists)
sees only a tenant that exists, within its own transaction (RLS)."""

from __future__ import annotations

import json
from pathlib import Path

from iotcloud.demo import DEMO_DEVICES, DEMO_GROUPS, DEMO_TENANT, ensure_demo
from shared.infra.db import SET_TENANT, connect
from shared.tenants import create_tenant, tenant_exists
from tests.support.pg import TestDB


async def test_demo_is_made_once_and_keeps_its_tokens(fresh_db: TestDB, tmp_path: Path) -> None:
    first = await ensure_demo(fresh_db.owner_url, fresh_db.app_url, tmp_path)
    assert sorted(first["tokens"]) == sorted(DEMO_DEVICES)
    again = await ensure_demo(fresh_db.owner_url, fresh_db.app_url, tmp_path)
    assert again["tokens"] == first["tokens"]
    assert json.loads((tmp_path / "demo-tokens.json").read_text()) == first["tokens"]
    conn = await connect(fresh_db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, DEMO_TENANT)
            assert await conn.fetchval("SELECT count(*) FROM users") == 1
            assert await conn.fetchval("SELECT count(*) FROM device_state") == len(DEMO_DEVICES)
            assert await conn.fetchval("SELECT count(*) FROM device_groups") == len(DEMO_GROUPS)
    finally:
        await conn.close()


async def test_tenant_exists_within_its_transaction(fresh_db: TestDB) -> None:
    owner = await connect(fresh_db.owner_url)
    try:
        await create_tenant(owner, "acme", "Acme")
    finally:
        await owner.close()
    conn = await connect(fresh_db.app_url)
    try:
        for tenant, expected in (("acme", True), ("nobody", False)):
            async with conn.transaction():
                await conn.execute(SET_TENANT, tenant)
                assert await tenant_exists(conn, tenant) is expected
    finally:
        await conn.close()

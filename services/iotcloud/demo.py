"""`iotcloud demo`: an idempotent demo tenant with an admin, about 20 devices and 2 groups."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from shared import audit
from shared.devices import create_device, device_exists, rotate_token
from shared.groups import add_members, create_group, group_exists
from shared.infra.db import SET_TENANT, connect
from shared.tenants import create_tenant, principal_for_email, upsert_user

DEMO_TENANT = "demo"
DEMO_EMAIL = "admin@demo.local"
DEMO_PASSWORD = "demo-admin"  # noqa: S105 - a published demo login, printed on purpose
DEMO_DEVICES = [f"demo-device-{i:02d}" for i in range(1, 21)]
DEMO_GROUPS = {
    "lab": ("Lab bench", "Devices on the lab bench", DEMO_DEVICES[:8]),
    "field": ("Field units", "Devices deployed in the field", DEMO_DEVICES[8:]),
}


async def ensure_demo(owner_url: str, app_url: str, home: Path) -> dict[str, Any]:
    """Creates what is missing; provision tokens are kept in <home>/demo-tokens.json (0600)."""
    now = datetime.now(UTC)  # the CLI's clock, as a request's in the services
    tokens_file = home / "demo-tokens.json"
    known: dict[str, str] = json.loads(tokens_file.read_text()) if tokens_file.exists() else {}
    owner: asyncpg.Connection = await connect(owner_url)
    try:
        await create_tenant(owner, DEMO_TENANT, "Demo Inc.")
    finally:
        await owner.close()
    conn: asyncpg.Connection = await connect(app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, DEMO_TENANT)
            if await principal_for_email(conn, DEMO_EMAIL) is None:
                await upsert_user(conn, DEMO_TENANT, DEMO_EMAIL, DEMO_PASSWORD, "admin")
            for i, device_id in enumerate(DEMO_DEVICES, start=1):
                if not await device_exists(conn, device_id):
                    kind = "sensor" if i % 2 else "gateway"
                    _, token = await create_device(
                        conn,
                        device_id,
                        f"Demo {kind} {i:02d}",
                        {"model": kind, "site": "lab" if i <= 8 else "field"},
                        now,
                    )
                    known[device_id] = token
                elif device_id not in known:
                    _, known[device_id] = await rotate_token(conn, device_id, now)
                    details = {"why": "demo: its token was not in the tokens file"}
                    await audit.record(
                        conn, audit.CLI, "device.token_rotated", "device", device_id, details, now=now
                    )
            for group_id, (name, description, members) in DEMO_GROUPS.items():
                if not await group_exists(conn, group_id):
                    await create_group(conn, group_id, name, description)
                    await add_members(conn, group_id, members, now)
    finally:
        await conn.close()
    home.mkdir(parents=True, exist_ok=True)
    tmp = tokens_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=2))
    tmp.chmod(0o600)
    tmp.replace(tokens_file)
    return {
        "tenant_id": DEMO_TENANT,
        "email": DEMO_EMAIL,
        "password": DEMO_PASSWORD,
        "tokens": known,
        "tokens_file": str(tokens_file),
    }

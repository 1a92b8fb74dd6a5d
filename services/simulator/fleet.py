"""Where the simulator's devices come from: a tokens file ({device_id: provision token}), or devices it
creates (or re-keys) itself in a tenant, in a few set-based statements, remembering their tokens."""

from __future__ import annotations

import json
import re
from pathlib import Path

import asyncpg

from shared.auth import new_provision_token, token_hash
from shared.infra.db import SET_TENANT, connect
from shared.tenants import create_tenant

SIM_GROUP = "simulated"
TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# Creates missing devices and gives existing ones the new token (a simulated device's old token is
# unknown to us); revoked ones are left revoked.
UPSERT_DEVICES = """
INSERT INTO device_state (tenant_id, device_id, name, attributes, token_hash)
SELECT current_setting('app.tenant_id'), d.id, 'Simulated ' || d.id, '{"simulated": true}'::jsonb, d.hash
  FROM unnest($1::text[], $2::text[]) AS d(id, hash)
ON CONFLICT (tenant_id, device_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, updated_at = now()
"""

ENSURE_GROUP = """
INSERT INTO device_groups (tenant_id, group_id, name, description)
VALUES (current_setting('app.tenant_id'), $1, 'Simulated devices', 'Devices driven by iotcloud simulate')
ON CONFLICT (tenant_id, group_id) DO NOTHING
"""

ADD_MEMBERS = """
INSERT INTO device_group_members (tenant_id, group_id, device_id)
SELECT current_setting('app.tenant_id'), $1, id FROM unnest($2::text[]) AS id
ON CONFLICT DO NOTHING
"""

ACTIVE_IDS = "SELECT device_id FROM device_state WHERE device_id = ANY($1::text[]) AND status = 'ACTIVE'"


def load_tokens(path: Path) -> dict[str, str]:
    """Reads a JSON object {device_id: provision token}; raises ValueError when it is not one."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read tokens file {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in data.items()
    ):
        raise ValueError(f"{path} must hold a JSON object of device_id -> provision token")
    if not data:
        raise ValueError(f"{path} lists no devices")
    return dict(data)


def save_tokens(path: Path, tokens: dict[str, str]) -> None:
    """Writes the tokens file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(tokens, indent=1, sort_keys=True))
    tmp.chmod(0o600)
    tmp.replace(path)


def sim_device_ids(count: int, prefix: str = "sim") -> list[str]:
    return [f"{prefix}-{i:06d}" for i in range(1, count + 1)]


def tokens_path(home: Path, tenant_id: str) -> Path:
    return home / f"sim-tokens-{tenant_id}.json"


async def ensure_sim_devices(
    owner_url: str, app_url: str, home: Path, tenant_id: str, count: int, prefix: str = "sim"
) -> dict[str, str]:
    """Makes sure `tenant_id` has `count` active simulated devices in group "simulated" and that their
    tokens are known (kept in <home>/sim-tokens-<tenant>.json). Returns {device_id: token}."""
    if not TENANT_RE.match(tenant_id):
        raise ValueError(f"invalid tenant id {tenant_id!r}")
    if count < 1:
        raise ValueError("--devices must be at least 1")
    path = tokens_path(home, tenant_id)
    known = load_tokens(path) if path.exists() else {}
    wanted = sim_device_ids(count, prefix)
    owner: asyncpg.Connection = await connect(owner_url)
    try:
        await create_tenant(owner, tenant_id, tenant_id)
    finally:
        await owner.close()
    conn: asyncpg.Connection = await connect(app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant_id)
            active = {r["device_id"] for r in await conn.fetch(ACTIVE_IDS, wanted)}
            fresh = [d for d in wanted if d not in known or d not in active]
            new_tokens = {d: new_provision_token() for d in fresh}
            if fresh:
                hashes = [token_hash(new_tokens[d]) for d in fresh]
                await conn.execute(UPSERT_DEVICES, fresh, hashes)
            await conn.execute(ENSURE_GROUP, SIM_GROUP)
            await conn.execute(ADD_MEMBERS, SIM_GROUP, wanted)
            active = {r["device_id"] for r in await conn.fetch(ACTIVE_IDS, wanted)}
    finally:
        await conn.close()
    known.update(new_tokens)
    save_tokens(path, known)
    return {d: known[d] for d in wanted if d in active}

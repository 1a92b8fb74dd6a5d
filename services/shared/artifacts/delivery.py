"""What a device receives of the artifacts its job references: each ${iotcloud:artifact-url:NAME} in the job's
document becomes a signed URL (shared/artifacts/urls.py) issued to this device, and the execution gains
`"artifacts": {NAME: {"url", "sha256", "size", "expires_at"}}` so the device can check what it downloads.
Executions whose document references no artifact are returned unchanged (no extra query on the poll)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.artifacts import urls
from shared.artifacts.service import BY_NAMES, PLACEHOLDER, referenced_names
from shared.infra.db import device_tx


@dataclass(frozen=True, slots=True)
class UrlSigner:
    secret: str
    ttl: timedelta
    base_url: str  # the device API as devices reach it, e.g. https://devices.example.com

    def link(self, tenant_id: str, device_id: str, sha256: str, size: int, now: datetime) -> dict[str, Any]:
        token = urls.sign(self.secret, tenant_id, device_id, sha256, now, self.ttl)
        return {
            "url": self.base_url.rstrip("/") + urls.URL_PATH + token,
            "sha256": sha256,
            "size": size,
            "expires_at": now + self.ttl,
        }


def _substitute(value: Any, links: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, str):
        if "${iotcloud:" not in value:
            return value
        return PLACEHOLDER.sub(lambda m: links[m[1]]["url"] if m[1] in links else m[0], value)
    if isinstance(value, dict):
        return {k: _substitute(v, links) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, links) for v in value]
    return value


async def _links(
    conn: asyncpg.Connection,
    signer: UrlSigner,
    tenant_id: str,
    device_id: str,
    names: list[str],
    now: datetime,
) -> dict[str, dict[str, Any]]:
    rows = await conn.fetch(BY_NAMES, names)
    return {r["name"]: signer.link(tenant_id, device_id, r["sha256"], r["size"], now) for r in rows}


def _apply(execution: dict[str, Any], links: dict[str, dict[str, Any]]) -> dict[str, Any]:
    document = execution["document"]
    names = referenced_names(document["params"], strict=False)
    if not names:
        return execution
    return {
        **execution,
        "document": {**document, "params": _substitute(document["params"], links)},
        "artifacts": {n: links[n] for n in names if n in links},
    }


async def for_execution(
    conn: asyncpg.Connection,
    signer: UrlSigner,
    tenant_id: str,
    device_id: str,
    execution: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """One execution (the device's transaction `conn`), its artifact references resolved."""
    names = referenced_names(execution["document"]["params"], strict=False)
    if not names:
        return execution
    return _apply(execution, await _links(conn, signer, tenant_id, device_id, names, now))


async def for_poll(
    pool: asyncpg.Pool,
    signer: Callable[[], UrlSigner],
    token_hash: str,
    seen_interval: int,
    executions: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The poll's executions, their artifact references resolved in one more transaction of the device's
    (only when some document references an artifact: `signer` is called then only)."""
    names = sorted({n for e in executions for n in referenced_names(e["document"]["params"], strict=False)})
    if not names:
        return executions
    async with device_tx(pool, token_hash, seen_interval, now) as device:
        links = await _links(device.conn, signer(), device.tenant_id, device.device_id, names, now)
    return [_apply(e, links) for e in executions]

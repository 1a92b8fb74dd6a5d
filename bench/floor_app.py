"""The B2 floor: a bare ASGI app (no framework) serving GET /device/v1/jobs/pending with asyncpg and
orjson. One statement finds the device by its token hash and its pending executions through the same
indexes as ours (token_hash unique index, the partial active-executions index), on a pool of the same
size. It connects as the table owner, so row-level security does not apply: it is the floor, not a
design (it neither sets a tenant nor refreshes last_seen_at)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.env import POOL_MAX
from shared.infra.db import create_pool

PENDING_BY_TOKEN = """
SELECT e.job_id, e.device_id, e.status, e.status_details, e.execution_number, e.queued_at, e.started_at,
       e.last_updated_at, j.document_type, j.document_params, j.expires_at
  FROM device_state d
  JOIN job_executions e ON e.tenant_id = d.tenant_id AND e.device_id = d.device_id
                       AND e.status IN ('QUEUED', 'IN_PROGRESS')
  JOIN jobs j ON j.tenant_id = e.tenant_id AND j.job_id = e.job_id
 WHERE d.token_hash = $1 AND d.status = 'ACTIVE' AND (j.expires_at IS NULL OR j.expires_at > $2)
 ORDER BY (e.status = 'IN_PROGRESS') DESC, e.queued_at, e.job_id
 LIMIT 100
"""

JSON_HEADERS = [(b"content-type", b"application/json")]


def create_floor_app(dsn: str) -> Any:
    state: dict[str, Any] = {}

    async def respond(send: Any, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    state["pool"] = await create_pool(dsn, min_size=0, max_size=POOL_MAX)
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await state["pool"].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/ready":
            await respond(send, 200, b'{"status":"ready"}')
            return
        token = next((v for k, v in scope["headers"] if k == b"x-provision-token"), None)
        if scope["path"] != "/device/v1/jobs/pending" or token is None:
            await respond(send, 404 if token else 401, b'{"error":"not_found"}')
            return
        async with state["pool"].acquire() as conn:
            rows = await conn.fetch(PENDING_BY_TOKEN, hashlib.sha256(token).hexdigest(), datetime.now(UTC))
        jobs = []
        for r in rows:
            item = dict(r)
            item["document"] = {"type": item.pop("document_type"), "params": item.pop("document_params")}
            jobs.append(item)
        await respond(send, 200, orjson.dumps({"jobs": jobs}, option=orjson.OPT_UTC_Z))

    return app

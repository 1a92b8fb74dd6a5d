"""The console channel's contract (db/functions/100_console_events.sql): on commit, at most one NOTIFY per
statement and tenant, {"tenant", "kind", "ids" (null past 32)}; nothing for what devices write on every poll
or report (last seen, reported state), nothing for what rolls back. Listened to over a plain connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest

from shared.console_events.notices import CHANNEL, ConsoleNotice
from shared.infra.db import SET_TENANT, connect
from tests.conftest import Services, Tenant

MARK = "SELECT iotcloud.console_notify($1, 'groups', ARRAY[$2::text], 1)"


class Inbox:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on(self, _c: Any, _pid: int, _channel: str, payload: object) -> None:
        assert isinstance(payload, str)
        self.queue.put_nowait(orjson.loads(payload))

    async def take(self, tenant: Tenant) -> list[dict[str, Any]]:
        """What this tenant was sent so far (a marker, sent last, says when all has come)."""
        marker = f"marker-{id(self)}-{self.queue.qsize()}"
        await _as_app(tenant, MARK, tenant.tenant_id, marker)
        got: list[dict[str, Any]] = []
        while True:
            item = await asyncio.wait_for(self.queue.get(), 10)
            if item["ids"] == [marker]:
                return [g for g in got if g["tenant"] == tenant.tenant_id]
            got.append(item)


async def _as_app(tenant: Tenant, sql: str, *args: Any) -> None:
    conn = await connect(tenant.services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            await conn.execute(sql, *args)
    finally:
        await conn.close()


@pytest.fixture
async def inbox(services: Services) -> AsyncIterator[Inbox]:
    box = Inbox()
    conn = await asyncpg.connect(services.db.app_url)
    await conn.add_listener(CHANNEL, box.on)
    yield box
    await conn.close()


def _n(tenant: Tenant, kind: str, ids: list[str] | None) -> dict[str, Any]:
    return {"tenant": tenant.tenant_id, "kind": kind, "ids": ids}


async def test_one_per_statement_and_tenant_named_or_null_past_32(inbox: Inbox, tenant: Tenant) -> None:
    devs = await tenant.create_devices(3, prefix="s")
    assert await inbox.take(tenant) == [_n(tenant, "devices", [d]) for d in devs]
    await _as_app(tenant, """INSERT INTO device_state (tenant_id, device_id, token_hash)
                             SELECT $1, 'bulk-' || i, md5($1 || i) FROM generate_series(1, 40) i""",
                  tenant.tenant_id)  # fmt: skip
    assert await inbox.take(tenant) == [_n(tenant, "devices", None)]  # 40 devices, one statement: one, null
    await tenant.create_group("sg", devs)  # two requests: the group, then its 3 members in one statement
    assert await inbox.take(tenant) == [_n(tenant, "groups", ["sg"])] * 2
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"job_id": "sj", "document_type": "fw", "target_group_id": "sg"}
        )
        assert r.status_code == 201, r.text
        assert await inbox.take(tenant) == [_n(tenant, "jobs", ["sj"])]  # row, counters: one
        r = await api.post("/customer/devices/" + devs[0] + "/revoke")
        assert r.status_code == 200, r.text
        assert await inbox.take(tenant) == [_n(tenant, "devices", None)]


async def test_nothing_for_what_devices_write_on_every_poll_or_report(inbox: Inbox, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="q")
    await inbox.take(tenant)
    async with tenant.device_api(dev) as d:
        assert (await d.get("/device/v1/jobs/pending")).status_code == 200  # last seen
        r = await d.post("/device/v1/shadow/reported", json={"reported": {"t": 1}})
        assert r.status_code == 200, r.text
    await _as_app(tenant, "UPDATE device_state SET last_seen_at = now()")
    assert await inbox.take(tenant) == []


async def test_nothing_for_what_rolls_back(inbox: Inbox, tenant: Tenant) -> None:
    conn = await connect(tenant.services.db.app_url)
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute(SET_TENANT, tenant.tenant_id)
        await conn.execute("INSERT INTO device_groups (tenant_id, group_id, name) VALUES ($1, 'rb', 'rb')",
                           tenant.tenant_id)  # fmt: skip
        await tx.rollback()
    finally:
        await conn.close()
    assert await inbox.take(tenant) == []


def test_a_payload_is_read_back_and_foreign_ones_are_ignored() -> None:
    assert ConsoleNotice.parse('{"tenant": "t", "kind": "jobs", "ids": ["a"]}') == ConsoleNotice(
        "t", "jobs", frozenset({"a"})
    )
    assert ConsoleNotice.parse('{"tenant": "t", "kind": "devices", "ids": null}') == ConsoleNotice(
        "t", "devices", None
    )
    for bad in ("", "x", "[]", '{"tenant": 1, "kind": "jobs"}', '{"tenant": "t", "kind": "users"}',
                '{"tenant": "t", "kind": "jobs", "ids": [1]}', '{"tenant": "t", "kind": "jobs", "ids": "a"}'):  # fmt: skip
        assert ConsoleNotice.parse(bad) is None

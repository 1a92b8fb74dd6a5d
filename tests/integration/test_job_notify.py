"""The jobs channel's contract (docs/jobs.md, "Notifications"; db/functions/096_notify.sql): one NOTIFY per job
that reaches devices, with {"tenant", "device" (or null), "job"}, on commit only: a job's creation (a device
target names it, a group or the fleet does not), a rollout's release, a scheduled job's start (its release),
a retry, devices joining a continuous job. Listened to over a plain asyncpg connection, as any listener."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest

from shared.infra.db import SET_TENANT, connect
from shared.jobs.notify import CHANNEL, NOTIFY_JOBS, JobNotice
from shared.jobs.rollout import run_rollout_tick
from tests.conftest import Services, Tenant

T0 = datetime(2035, 6, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


class Inbox:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on(self, _c: Any, _pid: int, _channel: str, payload: object) -> None:
        assert isinstance(payload, str)
        data = orjson.loads(payload)
        assert isinstance(data.pop("at"), float)  # when it was sent: for the notify latency metric
        self.queue.put_nowait(data)

    async def take(self, tenant: Tenant) -> list[dict[str, Any]]:
        """What this tenant was sent so far (a marker notification, sent last, says when all has come)."""
        marker = f"marker-{id(self)}-{self.queue.qsize()}"
        owner = await connect(tenant.services.db.app_url)
        try:
            async with owner.transaction():
                await owner.execute(SET_TENANT, tenant.tenant_id)
                await owner.execute(NOTIFY_JOBS, [marker], None)
        finally:
            await owner.close()
        got: list[dict[str, Any]] = []
        while True:
            item = await asyncio.wait_for(self.queue.get(), 10)
            if item["job"] == marker:
                return [g for g in got if g["tenant"] == tenant.tenant_id]
            got.append(item)


@pytest.fixture
async def inbox(services: Services) -> AsyncIterator[Inbox]:
    box = Inbox()
    conn = await asyncpg.connect(services.db.app_url)
    await conn.add_listener(CHANNEL, box.on)
    yield box
    await conn.close()


def _n(tenant: Tenant, job: str, device: str | None = None) -> dict[str, Any]:
    return {"tenant": tenant.tenant_id, "device": device, "job": job}


async def _post(tenant: Tenant, body: dict[str, Any], status: int = 201) -> None:
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", **body})
        assert r.status_code == status, r.text


async def test_creation_names_the_device_of_a_device_job_and_none_for_a_group_or_the_fleet(
    inbox: Inbox, tenant: Tenant
) -> None:
    devs = await tenant.create_devices(3, prefix="n")
    await tenant.create_group("g", devs[:2])
    await _post(tenant, {"job_id": "one", "target_device_id": devs[0]})
    await _post(tenant, {"job_id": "grp", "target_group_id": "g"})
    await _post(tenant, {"job_id": "all", "target_all": True})
    assert await inbox.take(tenant) == [_n(tenant, "one", devs[0]), _n(tenant, "grp"), _n(tenant, "all")]


async def test_nothing_is_sent_for_what_does_not_commit_or_reaches_no_device(
    inbox: Inbox, tenant: Tenant, clock: Services
) -> None:
    devs = await tenant.create_devices(2, prefix="z")
    await _post(tenant, {"job_id": "dup", "target_device_id": devs[0]})
    await _post(tenant, {"job_id": "dup", "target_device_id": devs[1]}, status=409)  # rolled back
    await _post(tenant, {"job_id": "gone", "target_device_id": "no-such"}, status=404)
    clock.set_clock(T0)
    await _post(tenant, {"job_id": "later", "target_all": True, "rollout_config": {"maximum_per_minute": 1}})
    await _post(tenant, {"job_id": "sched", "target_all": True,
                         "scheduling_config": {"start_time": (T0 + 10 * MIN).isoformat()}})  # fmt: skip
    assert await inbox.take(tenant) == [_n(tenant, "dup", devs[0])]


async def test_a_rollout_release_and_a_scheduled_start_send_one_per_job(
    inbox: Inbox, tenant: Tenant, clock: Services, app_pool: asyncpg.Pool
) -> None:
    devs = await tenant.create_devices(4, prefix="r")
    clock.set_clock(T0)
    await _post(tenant, {"job_id": "roll", "target_all": True, "rollout_config": {"maximum_per_minute": 2}})
    await _post(tenant, {"job_id": "sch", "target_device_id": devs[0],
                         "scheduling_config": {"start_time": (T0 + 10 * MIN).isoformat()}})  # fmt: skip
    assert await inbox.take(tenant) == []
    # (the tick is the whole database's: other tests' tenants may be in its counts, not in this inbox)
    await run_rollout_tick(app_pool, T0)  # 2 of 4 devices reached (the rate's first minute)
    assert await inbox.take(tenant) == [_n(tenant, "roll")]  # one for the devices reached
    result = await run_rollout_tick(app_pool, T0 + 10 * MIN)  # the schedule starts; the rollout ends
    assert "sch" in result.started
    assert sorted(await inbox.take(tenant), key=lambda n: n["job"]) == [
        _n(tenant, "roll"),
        _n(tenant, "sch", devs[0]),
    ]
    await run_rollout_tick(app_pool, T0 + 11 * MIN)  # nothing left to reach
    assert await inbox.take(tenant) == []


async def test_a_retry_names_the_device(inbox: Inbox, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="rt")
    retry = {"criteria_list": [{"failure_type": "FAILED", "number_of_retries": 1}]}
    await _post(tenant, {"job_id": "rt", "target_device_id": dev, "retry_config": retry})
    assert await inbox.take(tenant) == [_n(tenant, "rt", dev)]
    async with tenant.device_api(dev) as d:
        for status in ("IN_PROGRESS", "FAILED"):
            r = await d.put("/device/v1/jobs/rt/execution", json={"status": status})
            assert r.status_code == 200, r.text
        assert await inbox.take(tenant) == [_n(tenant, "rt", dev)]  # the retry, nothing for the moves
        for status in ("IN_PROGRESS", "FAILED"):  # no retry left: nothing
            r = await d.put("/device/v1/jobs/rt/execution", json={"status": status})
            assert r.status_code == 200, r.text
    assert await inbox.take(tenant) == []


async def test_devices_joining_a_continuous_job(inbox: Inbox, tenant: Tenant) -> None:
    devs = await tenant.create_devices(3, prefix="c")
    await tenant.create_group("cg", [])
    await _post(tenant, {"job_id": "cont", "target_group_id": "cg", "target_selection": "CONTINUOUS"})
    await _post(tenant, {"job_id": "fleet", "target_all": True, "target_selection": "CONTINUOUS"})
    assert await inbox.take(tenant) == [_n(tenant, "fleet")]  # the group was empty: nothing reached
    async with tenant.api() as api:
        r = await api.post("/customer/groups/cg/members", json={"device_ids": devs[:1]})
        assert r.status_code == 200, r.text
        assert await inbox.take(tenant) == [_n(tenant, "cont", devs[0])]
        r = await api.post("/customer/groups/cg/members", json={"device_ids": devs[1:]})
        assert r.status_code == 200, r.text
        assert await inbox.take(tenant) == [_n(tenant, "cont")]  # two devices: one notification, no device
    [new] = await tenant.create_devices(1, prefix="c-new")
    assert await inbox.take(tenant) == [_n(tenant, "fleet", new)]


def test_a_payload_is_read_back_and_foreign_ones_are_ignored() -> None:
    assert JobNotice.parse('{"tenant": "t", "device": null, "job": "j"}') == JobNotice("t", None, "j")
    assert JobNotice.parse('{"tenant": "t", "device": "d", "job": "j"}') == JobNotice("t", "d", "j")
    assert JobNotice.parse('{"tenant": "t", "device": null, "job": "j", "at": 5.5}') == JobNotice(
        "t", None, "j", 5.5
    )
    for bad in ("", "x", "[]", '{"tenant": 1, "job": "j"}', '{"tenant": "t"}', '{"tenant": "t", "job": "j", '
                '"device": 3}'):  # fmt: skip
        assert JobNotice.parse(bad) is None
    n = JobNotice("t", None, "j")
    assert n.concerns("t", "any") and not n.concerns("u", "any")
    assert JobNotice("t", "d", "j").concerns("t", "d") and not JobNotice("t", "d", "j").concerns("t", "e")

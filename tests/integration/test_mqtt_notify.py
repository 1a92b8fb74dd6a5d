"""notify-next and notify: a connected device hears of a job that reaches it within a second, woken by
LISTEN iotcloud_jobs (the notification the job's commit sends: {"tenant", "device" or null, "job"}), with one
statement for all the affected devices; without a notification (the listener down) the periodic check still
tells it (late, never lost), however busy other notifications keep the gateway; and after its own update
over MQTT it hears its next execution."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from mqtt_gateway.gateway import Gateway
from shared.infra.db import connect
from shared.jobs.notify import JobNotice
from tests.conftest import Services, Tenant
from tests.integration.mqtt_support import create_job, device, exact_after, gateway, things

__all__ = ["exact_after", "gateway"]
pytestmark = pytest.mark.usefixtures("exact_after")


async def _emit(services: Services, tenant: str, device_id: str | None, job: str) -> None:
    """A notification as the job commits send it (db/functions/096_notify.sql), sent by the test itself."""
    conn = await connect(services.db.app_url)
    try:
        payload = orjson.dumps({"tenant": tenant, "device": device_id, "job": job}).decode()
        await conn.execute("SELECT pg_notify('iotcloud_jobs', $1)", payload)
    finally:
        await conn.close()


async def test_notify_next_within_a_second_by_listen(
    services: Services, gateway: Gateway, tenant: Tenant
) -> None:
    gateway.watchers.fallback_seconds = 3600  # only the notification can wake the gateway
    await asyncio.wait_for(gateway.watchers.listening.wait(), 10)
    ids = await things(tenant, 5, "nn")
    devices = [device(gateway, tenant, d, t, v5=i % 2 == 0, disable_metrics=True) for i, (d, t) in
               enumerate(ids.items())]  # fmt: skip
    for d in devices:
        await d.connect()
        await d.watch()
    try:
        await tenant.create_group("nn", list(ids))
        checks = gateway.watchers.checks
        t0 = time.monotonic()
        job = await create_job(tenant, target_group_id="nn", document_params={"v": 2})  # its commit notifies
        for d in devices:
            event = await d.next_event(1, timeout=1.0)
            assert event.execution.job_id == job and event.execution.status == "QUEUED"
            assert event.execution.job_document == {"v": 2} and event.execution.version_number == 1
            assert event.timestamp is not None
        assert time.monotonic() - t0 < 1.5
        assert gateway.watchers.checks == checks + 1  # one statement for the 5 devices
        with devices[0].events.lock:
            changed = devices[0].events.changed[-1]
        assert [s.job_id for s in changed.jobs["QUEUED"]] == [job]

        # its own update over MQTT: the device hears what is next (here: nothing)
        d = devices[0]
        await d.call(d.update(job, "IN_PROGRESS"))
        await d.call(d.update(job, "SUCCEEDED"))
        event = await d.next_event(2, timeout=2.0)
        assert event.execution is None
        # another tenant's notification wakes nobody here: no statement at all
        checks = gateway.watchers.checks
        await _emit(services, "some-other-tenant", None, job)
        await asyncio.sleep(0.3)
        assert gateway.watchers.checks == checks
        assert len(devices[1].events.next_changed) == 1
    finally:
        for d in devices:
            await d.close()


async def test_a_lost_notification_is_late_not_lost(gateway: Gateway, tenant: Tenant) -> None:
    gateway.watchers.fallback_seconds = 1.0
    await gateway.watchers.listener.stop()  # every notification is lost
    ids = await things(tenant, 1, "fb")
    (dev, thing), = ids.items()  # fmt: skip
    first = await create_job(tenant, target_device_id=dev)
    d = device(gateway, tenant, dev, thing, v5=False, disable_metrics=True)
    await d.connect()
    await d.watch()
    try:
        # pending before CONNECT is no change: AWS sends nothing for it (devices ask with get/start-next)
        await asyncio.sleep(1.5)
        assert d.events.next_changed == []
        await d.call(d.update(first, "REJECTED", status_details={"why": "busy"}))
        assert (await d.next_event(1)).execution is None
        job = await create_job(tenant, target_device_id=dev)  # its notification is lost
        t0 = time.monotonic()
        event = await d.next_event(2, timeout=3.0)
        assert event.execution.job_id == job
        assert time.monotonic() - t0 < 2.5
    finally:
        await d.close()


async def test_busy_wake_ups_do_not_starve_the_fallback(
    gateway: Gateway, tenant: Tenant, other_tenant: Tenant
) -> None:
    gateway.watchers.fallback_seconds = 1.0
    await gateway.watchers.listener.stop()  # our tenant's notification is lost; the flood below is not
    (dev, thing), = (await things(tenant, 1, "bz")).items()  # fmt: skip
    (odev, othing), = (await things(other_tenant, 1, "bz")).items()  # fmt: skip
    d = device(gateway, tenant, dev, thing, disable_metrics=True)
    other = device(gateway, other_tenant, odev, othing, disable_metrics=True)
    await d.connect()
    await other.connect()
    await d.watch()
    stop = asyncio.Event()

    async def flood() -> None:  # the other tenant's notices, every 100 ms, as the listener hands them over
        while not stop.is_set():
            gateway.watchers.on_notice(JobNotice(other_tenant.tenant_id, None, "x"))
            await asyncio.sleep(0.1)

    flooding = asyncio.create_task(flood())
    try:
        checks = gateway.watchers.checks
        job = await create_job(tenant, target_device_id=dev)
        event = await d.next_event(1, timeout=3.0)
        assert event.execution.job_id == job
        assert gateway.watchers.checks - checks >= 2  # the flood did wake the gateway meanwhile
    finally:
        stop.set()
        await flooding
        await d.close()
        await other.close()

"""A gateway process (`iotcloud serve mqtt`) killed with SIGKILL while SDK devices (MQTT 5 and 3.1.1) work
through their jobs over it, then started again: the devices reconnect by themselves and finish, and every
move the gateway acknowledged (start-next/accepted, update/accepted) is in the history (the invariant
checker with those acknowledgements), with counters, chains and completion exact."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
from awsiot import V2ServiceException

from shared.infra.db import connect
from tests.conftest import TEST_SECRET, Services, Tenant
from tests.integration.mqtt_support import create_job, things
from tests.integration.reliability.invariants import Ack, check_all
from tests.integration.reliability.procs import ServiceProc, service_env
from tests.support.aws_device import AwsDevice

DEVICES = 8
JOBS = 4


async def _listening(port: int, proc: ServiceProc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.proc is not None and proc.proc.poll() is None, proc.log_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"the gateway did not listen:\n{proc.log_text()}")


async def _work(d: AwsDevice, tenant: str, device_id: str, acks: list[Ack], stop_at: float) -> int:
    """Start-next and complete until nothing is left; what was acknowledged is recorded."""
    done = 0
    while time.monotonic() < stop_at:
        try:
            started = await d.call(d.start_next(step_timeout_in_minutes=10))
            ex = started.execution
            if ex is None:
                return done
            acks.append(Ack(tenant, ex.job_id, device_id, ex.version_number, "IN_PROGRESS"))
            await asyncio.sleep(0.05)
            moved = await d.call(d.update(ex.job_id, "SUCCEEDED", include_job_execution_state=True))
            acks.append(Ack(tenant, ex.job_id, device_id, moved.execution_state.version_number, "SUCCEEDED"))
            done += 1
        except V2ServiceException:  # the gateway is down, or an answer was lost: ask again
            await asyncio.sleep(0.3)
    raise AssertionError(f"{d.thing} did not finish its jobs")


@pytest.mark.timeout(240)
async def test_gateway_kill_9_under_load_loses_no_acknowledged_update(
    services: Services, tenant: Tenant, tmp_path: Path
) -> None:
    ids = await things(tenant, DEVICES, "k9")
    await tenant.create_group("k9", list(ids))
    for i in range(JOBS):
        await create_job(tenant, target_group_id="k9", document_params={"i": i})
    env = service_env(services.db.owner_url, TEST_SECRET, tmp_path)
    gw = ServiceProc("mqtt", "mqtt-gateway", env, tmp_path)
    gw.env["IOTCLOUD_MQTT_PORT"] = str(gw.port)
    gw.start()
    await _listening(gw.port, gw)
    devices = [
        AwsDevice("127.0.0.1", gw.port, thing, tenant.tokens[dev], v5=i % 2 == 0, timeout=3)
        for i, (dev, thing) in enumerate(ids.items())
    ]
    acks: list[Ack] = []
    try:
        for d in devices:
            await d.connect()
        stop_at = time.monotonic() + 150
        workers = [
            asyncio.create_task(_work(d, tenant.tenant_id, dev, acks, stop_at))
            for d, dev in zip(devices, ids, strict=True)
        ]
        while len(acks) < DEVICES * 2:  # under load: every device has moved
            assert time.monotonic() < stop_at
            await asyncio.sleep(0.05)
        gw.kill9()
        killed_at = len(acks)
        await asyncio.sleep(1.0)
        gw.start()
        await _listening(gw.port, gw)
        finished = await asyncio.gather(*workers)
        assert sum(finished) <= DEVICES * JOBS  # (an answer lost in the kill is not counted)
        assert len(acks) > killed_at  # work went on after the restart
    finally:
        for d in devices:
            await d.close()
        gw.stop()
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner, acks)
        left = await owner.fetchval(
            "SELECT count(*) FROM job_executions WHERE tenant_id = $1 AND status <> 'SUCCEEDED'",
            tenant.tenant_id,
        )
        assert left == 0
    finally:
        await owner.close()
    print(f"\ngateway killed after {killed_at} acknowledged moves; {len(acks)} in all, none lost")

"""MQTT and HTTP racing on the same executions: each of 12 devices claims its execution over MQTT, then
finishes it over MQTT (SUCCEEDED) and over HTTP (FAILED) at the same moment. Exactly one of the two wins
per execution, the loser is refused with the current state (MQTT: InvalidStateTransition; HTTP: 409), the
gateway's group commit decided the concurrent MQTT moves in fewer statements than moves, and counters,
history and the job's completion are exact (the invariant checker, with every acknowledged move)."""

from __future__ import annotations

import asyncio

import pytest
from awsiot import V2ServiceException

from mqtt_gateway.gateway import Gateway
from tests.conftest import Tenant
from tests.integration.mqtt_support import create_job, device, exact_after, gateway, things

__all__ = ["exact_after", "gateway"]
pytestmark = pytest.mark.usefixtures("exact_after")

N = 12


async def test_mqtt_and_http_race_to_finish(gateway: Gateway, tenant: Tenant) -> None:
    ids = await things(tenant, N, "race")
    await tenant.create_group("race", list(ids))
    job = await create_job(tenant, target_group_id="race")
    devices = {dev: device(gateway, tenant, dev, thing, v5=i % 2 == 0, disable_metrics=True)
               for i, (dev, thing) in enumerate(ids.items())}  # fmt: skip
    await asyncio.gather(*(d.connect() for d in devices.values()))
    try:
        claims = await asyncio.gather(*(d.call(d.start_next()) for d in devices.values()))
        assert {c.execution.version_number for c in claims} == {2}
        batches, moves = gateway.api.mover.batches, gateway.api.mover.moves

        async def over_mqtt(dev: str) -> str:
            d = devices[dev]
            try:
                await d.call(d.update(job, "SUCCEEDED"))
                return "SUCCEEDED"
            except V2ServiceException as exc:
                assert exc.modeled_error is not None, exc.message
                assert exc.modeled_error.code == "InvalidStateTransition"
                assert exc.modeled_error.execution_state.status == "FAILED"
                return "refused"

        async def over_http(dev: str) -> str:
            async with tenant.device_api(dev) as http:
                r = await http.put(f"/device/v1/jobs/{job}/execution", json={"status": "FAILED"})
            if r.status_code == 200:
                return "FAILED"
            assert r.status_code == 409 and r.json()["current"]["status"] == "SUCCEEDED", r.text
            return "refused"

        results = await asyncio.gather(*(asyncio.gather(over_mqtt(dev), over_http(dev)) for dev in ids))
        for mqtt_result, http_result in results:
            assert sorted([mqtt_result, http_result]) in (["SUCCEEDED", "refused"], ["FAILED", "refused"])
        assert gateway.api.mover.moves - moves == N
        assert gateway.api.mover.batches - batches < N  # what arrived together went together
    finally:
        await asyncio.gather(*(d.close() for d in devices.values()))
    async with tenant.api() as api:
        body = (await api.get(f"/customer/jobs/{job}")).json()
    assert body["status"] == "COMPLETED"
    won = [r for pair in results for r in pair if r != "refused"]
    assert body["counts"]["succeeded"] == won.count("SUCCEEDED")
    assert body["counts"]["failed"] == won.count("FAILED")

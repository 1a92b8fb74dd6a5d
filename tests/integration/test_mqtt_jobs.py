"""The AWS IoT Jobs device MQTT API through the gateway, driven by the official SDK (awsiotsdk, unmodified)
with its MQTT 5 client and its MQTT 3.1.1 connection: get, start-next, describe, update with versions, and
AWS's rejection codes. Every test ends with the invariant checker over the whole database."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from mqtt_gateway.gateway import Gateway
from tests.conftest import Tenant
from tests.integration.mqtt_support import create_job, device, exact_after, gateway, things

__all__ = ["exact_after", "gateway"]  # fixtures
pytestmark = pytest.mark.usefixtures("exact_after")


@pytest.mark.parametrize("v5", [True, False], ids=["mqtt5", "mqtt311"])
async def test_get_start_next_describe_update(gateway: Gateway, tenant: Tenant, v5: bool) -> None:
    ids = await things(tenant, 1, "jd")
    dev_id, thing = next(iter(ids.items()))
    assert thing == f"{tenant.tenant_id}:{dev_id}"
    job1 = await create_job(
        tenant, target_device_id=dev_id, document_params={"url": "https://x/fw.bin", "n": 3}
    )
    job2 = await create_job(tenant, target_device_id=dev_id, document_params={"step": "two"})
    # metrics left on (the default): the SDK appends ?SDK=... to the username, which the gateway ignores
    d = device(gateway, tenant, dev_id, thing, v5=v5)
    await d.connect()
    assert "?SDK=" in gateway.sessions[thing].username
    try:
        pending = await d.get_pending()
        assert [j.job_id for j in pending.queued_jobs] == [job1, job2]
        assert pending.in_progress_jobs == []
        assert pending.queued_jobs[0].version_number == 1 and pending.queued_jobs[0].execution_number == 1
        assert pending.timestamp is not None

        started = await d.call(d.start_next(step_timeout_in_minutes=30, status_details={"phase": "download"}))
        ex = started.execution
        assert (ex.job_id, ex.status, ex.thing_name) == (job1, "IN_PROGRESS", thing)
        assert ex.job_document == {"url": "https://x/fw.bin", "n": 3}  # document_params as is
        assert ex.status_details == {"phase": "download"}
        assert ex.version_number == 2 and ex.started_at is not None

        described = await d.call(d.describe(job1))
        assert described.execution.version_number == 2
        assert described.execution.job_document == {"url": "https://x/fw.bin", "n": 3}
        nxt = await d.call(d.describe("$next", include_job_document=False))
        assert nxt.execution.job_id == job1 and nxt.execution.job_document is None

        # a stale expectedVersion: VersionMismatch with the current state
        err = await d.rejected(d.update(job1, "SUCCEEDED", expected_version=1))
        assert err.code == "VersionMismatch"
        assert err.execution_state.version_number == 2 and err.execution_state.status == "IN_PROGRESS"

        done = await d.call(
            d.update(job1, "SUCCEEDED", expected_version=2, status_details={"result": "ok"},
                     include_job_execution_state=True, include_job_document=True)
        )  # fmt: skip
        assert done.execution_state.status == "SUCCEEDED" and done.execution_state.version_number == 3
        assert done.execution_state.status_details == {"result": "ok"}
        assert done.job_document == {"url": "https://x/fw.bin", "n": 3}

        # a terminal execution cannot move again
        err = await d.rejected(d.update(job1, "IN_PROGRESS"))
        assert err.code == "InvalidStateTransition" and err.execution_state.status == "SUCCEEDED"

        second = await d.call(d.start_next())
        assert second.execution.job_id == job2 and second.execution.job_document == {"step": "two"}
        assert (await d.call(d.update(job2, "FAILED"))).client_token
        none_left = await d.call(d.start_next())
        assert none_left.execution is None
        assert (await d.call(d.describe("$next"))).execution is None
    finally:
        await d.close()
    # the same moves as the HTTP device API: the history the operator reads
    async with tenant.api() as api:
        r = await api.get(f"/customer/jobs/{job1}/executions/{dev_id}/events")
        moves = [(e["actor"], e["from_status"], e["to_status"]) for e in r.json()["events"]]
    assert moves[-2:] == [("device", "QUEUED", "IN_PROGRESS"), ("device", "IN_PROGRESS", "SUCCEEDED")]


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_rejections_carry_aws_codes(gateway: Gateway, tenant: Tenant) -> None:
    before = {
        "not_found": _count("iotcloud_mqtt_requests_total", api="describe", outcome="ResourceNotFound"),
        "accepted": _count("iotcloud_mqtt_connects_total", outcome="accepted"),
        "connections": _count("iotcloud_mqtt_connections"),
    }
    ids = await things(tenant, 1, "rj")
    dev_id, thing = next(iter(ids.items()))
    job = await create_job(tenant, target_device_id=dev_id)
    d = device(gateway, tenant, dev_id, thing, disable_metrics=True)
    await d.connect()
    try:
        assert (await d.rejected(d.describe("no-such-job"))).code == "ResourceNotFound"
        assert (await d.rejected(d.update("no-such-job", "IN_PROGRESS"))).code == "ResourceNotFound"
        assert (await d.rejected(d.describe(job, execution_number=7))).code == "ResourceNotFound"
        err = await d.rejected(
            d.update(job, "SUCCEEDED", status_details={"k": "v"}, step_timeout_in_minutes=5)
        )
        assert err.code == "InvalidRequest"
        err = await d.rejected(d.update(job, "QUEUED"))
        assert err.code == "InvalidStateTransition" and err.execution_state.status == "QUEUED"
        async with tenant.api() as api:
            assert (await api.post(f"/customer/jobs/{job}/cancel", json={})).status_code == 200
        err = await d.rejected(d.update(job, "IN_PROGRESS"))
        assert err.code in ("TerminalStateReached", "InvalidStateTransition"), err
        # counted: iotcloud_mqtt_requests_total, _connects_total, the connections gauge
        assert _count("iotcloud_mqtt_requests_total", api="describe", outcome="ResourceNotFound") == (
            before["not_found"] + 2
        )
        assert _count("iotcloud_mqtt_connects_total", outcome="accepted") == before["accepted"] + 1
        assert _count("iotcloud_mqtt_connections") == before["connections"] + 1
    finally:
        await d.close()

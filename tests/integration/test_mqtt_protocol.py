"""The gateway at the byte level (a bare client, tests/support/raw_mqtt.py): AWS's codes for what the SDK
never sends (InvalidJson, InvalidTopic, InvalidRequest), RequestThrottled past a connection's queue, the
session takeover of a second connection with the same client id, and a malformed packet ending the
connection with MQTT 5's reason code."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mqtt_gateway.gateway import Gateway
from mqtt_gateway.jobs_api import JobsApi
from mqtt_gateway.session import MAX_QUEUED_REQUESTS
from tests.conftest import Tenant
from tests.integration.mqtt_support import create_job, exact_after, gateway, things
from tests.support.raw_mqtt import RawClient

__all__ = ["exact_after", "gateway"]
pytestmark = pytest.mark.usefixtures("exact_after")


async def _answer(raw: RawClient) -> tuple[str, dict[str, object]]:
    topic, payload = await raw.next_publish()
    return topic, orjson.loads(payload)


async def test_bad_requests_get_aws_codes(gateway: Gateway, tenant: Tenant) -> None:
    (dev, thing), = (await things(tenant, 1, "bad")).items()  # fmt: skip
    job = await create_job(tenant, target_device_id=dev)
    p = f"$aws/things/{thing}/jobs/"
    raw = RawClient(gateway.port, v5=True)
    try:
        assert await raw.connect(thing, thing, tenant.tokens[dev]) == (2, 0)
        assert await raw.subscribe(1, p + "#") == [1]
        cases = [
            (p + "get", b"{not json", "InvalidJson", None),
            (p + "get", b"[1, 2]", "InvalidJson", None),
            (p + "no-such-api", b'{"clientToken": "c1"}', "InvalidTopic", "c1"),
            (p + f"{job}/update", b'{"clientToken": "c2", "status": "DONE"}', "InvalidRequest", "c2"),
            (p + f"{job}/update", b'{"clientToken": "c3", "status": "FAILED", "statusDetails": {"n": 1}}',
             "InvalidRequest", "c3"),
            (p + f"{job}/update", b'{"clientToken": "c4", "status": "FAILED", "expectedVersion": "1"}',
             "InvalidRequest", "c4"),
            (p + "start-next", b'{"clientToken": "c5", "stepTimeoutInMinutes": 0}', "InvalidRequest", "c5"),
            (p + "get", b'{"clientToken": 5}', "InvalidRequest", None),
            (p + "bad id!/get", b'{"clientToken": "c6"}', "ResourceNotFound", "c6"),
        ]  # fmt: skip
        for n, (topic, body, code, token) in enumerate(cases, start=2):
            assert await raw.publish(topic, body, packet_id=n) == 0
            reply, answer = await _answer(raw)
            assert reply == topic + "/rejected" and answer["code"] == code, (topic, body, answer)
            assert answer.get("clientToken") == token and isinstance(answer["timestamp"], int)
        # a good one on the same connection; publishing to a reply topic is ignored
        await raw.publish(p + "get/accepted", b"{}")
        assert await raw.publish(p + "get", b'{"clientToken": "ok"}', packet_id=40) == 0
        reply, answer = await _answer(raw)
        assert reply == p + "get/accepted" and answer["clientToken"] == "ok"
        assert [j["jobId"] for j in answer["queuedJobs"]] == [job] and answer["inProgressJobs"] == []
    finally:
        raw.close()


async def test_a_flood_is_throttled_not_dropped(gateway: Gateway, tenant: Tenant) -> None:
    (dev, thing), = (await things(tenant, 1, "fl")).items()  # fmt: skip
    p = f"$aws/things/{thing}/jobs/"
    raw = RawClient(gateway.port, v5=False)
    try:
        assert await raw.connect(thing, thing, tenant.tokens[dev]) == (2, 0)
        assert await raw.subscribe(1, p + "get/+") == [1]
        n = MAX_QUEUED_REQUESTS * 3
        for i in range(n):  # QoS 0, all at once
            await raw.publish(p + "get", orjson.dumps({"clientToken": f"t{i}"}))
        codes = [(await _answer(raw))[1].get("code", "ok") for _ in range(n)]
        assert set(codes) == {"ok", "RequestThrottled"}, codes  # every request answered, one way or the other
        assert codes.count("ok") >= MAX_QUEUED_REQUESTS
    finally:
        raw.close()


async def test_takeover_and_malformed_packets(gateway: Gateway, tenant: Tenant) -> None:
    (dev, thing), = (await things(tenant, 1, "to")).items()  # fmt: skip
    first, second = RawClient(gateway.port, v5=True), RawClient(gateway.port, v5=True)
    try:
        assert await first.connect(thing, thing, tenant.tokens[dev]) == (2, 0)
        assert await second.connect(thing, thing, tenant.tokens[dev]) == (2, 0)
        assert await first.closed() == (14, bytes([0x8E, 0]))  # DISCONNECT: session taken over
        await second.send_raw(bytes.fromhex("8203000100"))  # SUBSCRIBE with no filter
        disconnect = await second.closed()
        assert disconnect is not None and disconnect[0] == 14 and disconnect[1][0] == 0x82  # protocol error
        third = RawClient(gateway.port, v5=True)
        assert await third.connect(thing, thing, tenant.tokens[dev]) == (2, 0)
        await third.send_raw(bytes.fromhex("300400016105"))  # properties longer than the packet
        disconnect = await third.closed()
        assert disconnect is not None and disconnect[0] == 14 and disconnect[1][0] == 0x81
        third.close()
        # a client whose first packet is not CONNECT is dropped
        r, w = await asyncio.open_connection("127.0.0.1", gateway.port)
        w.write(bytes.fromhex("c000"))  # PINGREQ
        assert await asyncio.wait_for(r.read(), 5) == b""
        w.close()
    finally:
        first.close()
        second.close()


async def test_an_unforeseen_failure_answers_internal_error(
    gateway: Gateway, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    (dev, thing), = (await things(tenant, 1, "ie")).items()  # fmt: skip
    p = f"$aws/things/{thing}/jobs/"
    raw = RawClient(gateway.port, v5=True)
    try:
        assert await raw.connect(thing, thing, tenant.tokens[dev]) == (2, 0)
        assert await raw.subscribe(1, p + "get/+") == [1]

        async def broken(*_args: object, **_kw: object) -> None:
            raise RuntimeError("injected")

        monkeypatch.setattr(JobsApi, "pending", broken)
        assert await raw.publish(p + "get", b'{"clientToken": "a"}', packet_id=2) == 0
        assert (await _answer(raw))[1]["code"] == "InternalError"
        monkeypatch.undo()
        assert await raw.publish(p + "get", b'{"clientToken": "b"}', packet_id=3) == 0
        topic, answer = await _answer(raw)  # the connection goes on
        assert topic == p + "get/accepted" and answer["clientToken"] == "b"
    finally:
        raw.close()

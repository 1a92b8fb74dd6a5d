"""Who may connect to the MQTT gateway and what it may reach: a wrong, foreign or revoked token is refused
at CONNECT (3.1.1 return code 5, MQTT 5 0x87), a device subscribes and publishes only under its own
`$aws/things/{thing}/jobs/` (another thing's topics, in its tenant or another, get SUBACK 0x87/0x80 and
PUBACK 0x87, and nothing of theirs is delivered), and revoking or rotating a token disconnects the device
within 5 s."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import orjson
import pytest

from mqtt_gateway.gateway import Gateway
from shared.infra.db import create_pool
from tests.conftest import Services, Tenant
from tests.integration.mqtt_support import create_job, device, exact_after, gateway, things
from tests.support.raw_mqtt import RawClient

__all__ = ["exact_after", "gateway"]
pytestmark = pytest.mark.usefixtures("exact_after")


@pytest.mark.parametrize("v5", [True, False], ids=["mqtt5", "mqtt311"])
async def test_wrong_foreign_and_revoked_tokens_are_refused(
    gateway: Gateway, tenant: Tenant, v5: bool
) -> None:
    ids = await things(tenant, 2, "au")
    (a, thing_a), (b, thing_b) = ids.items()
    refused = 0x87 if v5 else 5
    raw = RawClient(gateway.port, v5)
    assert await raw.connect(thing_a, thing_a, "not-the-token") == (2, refused)
    raw.close()
    raw = RawClient(gateway.port, v5)  # B's token under A's name
    assert await raw.connect(thing_a, thing_a, tenant.tokens[b]) == (2, refused)
    raw.close()
    raw = RawClient(gateway.port, v5)  # no password
    assert await raw.connect(thing_a, thing_a, None) == (2, 0x86 if v5 else 4)
    raw.close()
    raw = RawClient(gateway.port, v5)  # the right token, with the metrics suffix AWS SDKs add
    assert await raw.connect(thing_a, thing_a + "?SDK=Test&Platform=x", tenant.tokens[a]) == (2, 0)
    raw.close()

    async with tenant.api() as api:
        assert (await api.post(f"/customer/devices/{b}/revoke")).status_code == 200
    sdk = device(gateway, tenant, b, thing_b, v5=v5)
    failure = await sdk.connect_refused()
    if v5:
        assert failure.reason_code == 0x87  # NOT_AUTHORIZED
    else:
        # awscrt's 3.1.1 client reports any refused CONNACK so (checked against a bare server answering
        # 20 02 00 05); the raw client above read the return code itself
        assert "AWS_ERROR_MQTT_PROTOCOL_ERROR" in repr(failure), failure


@pytest.mark.parametrize("v5", [True, False], ids=["mqtt5", "mqtt311"])
async def test_a_device_reaches_only_its_own_topics(
    gateway: Gateway, tenant: Tenant, other_tenant: Tenant, v5: bool
) -> None:
    ids = await things(tenant, 2, "iso")
    (a, thing_a), (b, thing_b) = ids.items()
    (c, thing_c), = (await things(other_tenant, 1, "iso")).items()  # fmt: skip
    job_b = await create_job(tenant, target_device_id=b)
    await create_job(other_tenant, target_device_id=c)
    deny = 0x87 if v5 else 0x80

    victim = RawClient(gateway.port, v5)
    assert await victim.connect(thing_b, thing_b, tenant.tokens[b]) == (2, 0)
    assert await victim.subscribe(1, f"$aws/things/{thing_b}/jobs/#") == [1]

    attacker = RawClient(gateway.port, v5)
    assert await attacker.connect(thing_a, thing_a, tenant.tokens[a]) == (2, 0)
    codes = await attacker.subscribe(
        1,
        f"$aws/things/{thing_b}/jobs/get/accepted",
        f"$aws/things/{thing_c}/jobs/#",
        "$aws/things/+/jobs/#",
        "$aws/#",
        "#",
        f"$share/g/$aws/things/{thing_a}/jobs/#",
        f"$aws/things/{thing_a}/jobs/+/get/+",
    )
    assert codes[:5] == [deny] * 5
    assert codes[5] == (0x9E if v5 else 0x80)  # shared subscriptions are not offered
    assert codes[6] == 1
    # publishes under another thing (same tenant, other tenant) are dropped: MQTT 5 hears 0x87
    for n, topic in enumerate(
        [f"$aws/things/{thing_b}/jobs/{job_b}/update", f"$aws/things/{thing_c}/jobs/start-next",
         f"$aws/things/{thing_b}/jobs/get"], start=2
    ):  # fmt: skip
        body = orjson.dumps({"status": "IN_PROGRESS", "clientToken": "x"})
        assert await attacker.publish(topic, body, packet_id=n) == (0x87 if v5 else 0)
    # the attacker's own requests work on the same connection
    assert await attacker.publish(f"$aws/things/{thing_a}/jobs/{job_b}/get", b'{"clientToken":"t1"}', 9) == 0
    topic, payload = await attacker.next_publish()
    assert topic == f"$aws/things/{thing_a}/jobs/{job_b}/get/rejected"
    assert orjson.loads(payload)["code"] == "ResourceNotFound"  # B's job is not A's
    # the victim saw nothing, and B's execution did not move
    with pytest.raises(TimeoutError):
        await victim.next_publish(timeout=0.5)
    async with tenant.api() as api:
        r = await api.get(f"/customer/jobs/{job_b}/executions/{b}/events")
        assert r.json()["events"] == [], r.text  # no move at all
    victim.close()
    attacker.close()


async def test_another_things_topics_fail_in_the_sdk(gateway: Gateway, tenant: Tenant) -> None:
    ids = await things(tenant, 2, "isk")
    (a, thing_a), (b, thing_b) = ids.items()
    job_b = await create_job(tenant, target_device_id=b)
    d = device(gateway, tenant, a, thing_a, disable_metrics=True, timeout=3)
    await d.connect()
    try:
        d.thing = thing_b  # the SDK subscribes to B's reply topics: SUBACK refused, the request fails
        with pytest.raises(Exception, match="failure"):
            await d.call(d.describe(job_b))
    finally:
        await d.close()


@pytest.mark.parametrize("how", ["revoke", "rotate-token"])
async def test_revoking_or_rotating_disconnects_within_5_s(
    gateway: Gateway, tenant: Tenant, how: str
) -> None:
    ids = await things(tenant, 1, f"rv-{how}")
    (dev, thing), = ids.items()  # fmt: skip
    sdk = device(gateway, tenant, dev, thing, v5=True)
    await sdk.connect()
    raw = RawClient(gateway.port, v5=False)
    # 3.1.1: the same thing again takes the session over; so the raw client is a second device
    (dev2, thing2), = (await things(tenant, 1, f"rv2-{how}")).items()  # fmt: skip
    assert await raw.connect(thing2, thing2, tenant.tokens[dev2]) == (2, 0)
    async with tenant.api() as api:
        assert (await api.post(f"/customer/devices/{dev}/{how}")).status_code == 200
        assert (await api.post(f"/customer/devices/{dev2}/{how}")).status_code == 200
    t0 = time.monotonic()
    assert await raw.closed(timeout=5.0) is None  # 3.1.1: the socket closes
    while not sdk.disconnects:
        assert time.monotonic() - t0 < 5.0, "the MQTT 5 device was not disconnected within 5 s"
        await asyncio.sleep(0.05)
    assert sdk.disconnects[0].disconnect_packet.reason_code == 0x87
    await sdk.close()
    raw.close()


async def test_bad_tokens_count_against_the_address_as_over_http(services: Services, tenant: Tenant) -> None:
    """The device API's limiter (per address, shared by every replica and by HTTP): past the limit a bad
    token gets MQTT 5 0x9F; a valid token from the same address still connects."""
    settings = services.settings.model_copy(update={"device_auth_failures_per_minute": 3})
    pool = await create_pool(services.db.app_url, min_size=1, max_size=2, session_state=False)
    gw = Gateway(settings, pool, services.db.app_url)
    await gw.start("127.0.0.1", 0)
    source = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    (dev, thing), = (await things(tenant, 1, "lim")).items()  # fmt: skip
    try:
        codes = []
        for _ in range(5):
            raw = RawClient(gw.port, v5=True, source=source)
            codes.append((await raw.connect(thing, thing, "wrong"))[1])
            raw.close()
        assert codes == [0x87, 0x87, 0x87, 0x9F, 0x9F]
        raw = RawClient(gw.port, v5=True, source=source)
        assert await raw.connect(thing, thing, tenant.tokens[dev]) == (2, 0)
        raw.close()
        async with httpx.AsyncClient(base_url=services.device.url, timeout=10) as http:
            # the same counter: HTTP from elsewhere is not affected
            r = await http.get("/device/v1/jobs/pending", headers={"X-Provision-Token": tenant.tokens[dev]})
            assert r.status_code == 200
    finally:
        await gw.stop()
        await pool.close()

"""Devices and twins keep the request's time (the app's injectable clock), not the database's: every write
stamps the injected now, and "online" is judged against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Services, Tenant

T0 = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_device_and_twin_writes_stamp_the_injected_time(clock: Services, tenant: Tenant) -> None:
    clock.set_clock(T0)
    async with tenant.api() as api:
        r = await api.post("/customer/devices", json={"device_id": "clocked", "name": "c"})
        assert r.status_code == 201, r.text
        token = r.json()["provision_token"]
        assert _at(r.json()["created_at"]) == _at(r.json()["updated_at"]) == T0
        for step, call in enumerate(
            (
                lambda: api.patch("/customer/devices/clocked", json={"name": "renamed"}),
                lambda: api.patch("/customer/devices/clocked/twin", json={"desired": {"a": 1}}),
                lambda: api.post("/customer/devices/clocked/rotate-token"),
            ),
            start=1,
        ):
            clock.set_clock(T0 + timedelta(minutes=step))
            r = await call()
            assert r.status_code == 200, r.text
            if step == 3:
                token = r.json()["provision_token"]
            device = (await api.get("/customer/devices/clocked")).json()
            assert _at(device["updated_at"]) == T0 + timedelta(minutes=step)

    clock.set_clock(T0 + timedelta(minutes=10))
    tenant.tokens["clocked"] = token
    async with tenant.device_api("clocked") as device_api:
        r = await device_api.post("/device/v1/shadow/reported", json={"reported": {"a": 1}})
        assert r.status_code == 200, r.text
        assert _at(r.json()["updated_at"]) == T0 + timedelta(minutes=10)

    clock.set_clock(T0 + timedelta(minutes=11))
    async with tenant.api() as api:
        r = await api.post("/customer/devices/clocked/revoke")
        assert _at(r.json()["updated_at"]) == T0 + timedelta(minutes=11)


async def test_online_is_judged_against_the_injected_time(clock: Services, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="seen")
    async with tenant.device_api(dev) as device_api:
        assert (await device_api.get("/device/v1/shadow")).status_code == 200  # stamps last_seen_at
    async with tenant.api() as api:
        assert (await api.get(f"/customer/devices/{dev}")).json()["online"] is True
        clock.set_clock(datetime.now(UTC) + timedelta(minutes=6))
        assert (await api.get(f"/customer/devices/{dev}")).json()["online"] is False
        listed = (await api.get("/customer/devices", params={"q": dev})).json()["devices"]
        assert [d["online"] for d in listed] == [False]

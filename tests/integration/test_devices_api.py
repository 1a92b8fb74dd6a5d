"""Devices, groups, the twin and the device's shadow over real HTTP."""

from datetime import datetime

from shared.infra.db import SET_TENANT, connect
from tests.conftest import Services, Tenant


async def test_create_list_search_paginate_patch(tenant: Tenant) -> None:
    async with tenant.api() as api:
        r = await api.post("/customer/devices", json={"name": "Boiler 1", "attributes": {"site": "north"}})
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["device_id"].startswith("dev-") and created["provision_token"].startswith("tok-")
        assert created["status"] == "ACTIVE" and created["online"] is False
        dev = created["device_id"]
        got = (await api.get(f"/customer/devices/{dev}")).json()
        assert "provision_token" not in got and got["attributes"] == {"site": "north"}
        for i in range(5):
            assert (
                await api.post("/customer/devices", json={"device_id": f"pump-{i}", "name": f"Pump {i}"})
            ).status_code == 201
        dup = await api.post("/customer/devices", json={"device_id": "pump-0"})
        assert dup.status_code == 409 and dup.json()["error"] == "conflict"
        page = (await api.get("/customer/devices", params={"q": "pump", "limit": 2, "offset": 0})).json()
        assert page["total"] == 5 and len(page["devices"]) == 2
        rest = (await api.get("/customer/devices", params={"q": "PUMP", "limit": 10, "offset": 2})).json()
        assert len(rest["devices"]) == 3
        assert {d["device_id"] for d in page["devices"] + rest["devices"]} == {f"pump-{i}" for i in range(5)}
        assert (await api.get("/customer/devices", params={"q": "%"})).json()["total"] == 0  # LIKE is escaped
        r = await api.patch(
            f"/customer/devices/{dev}", json={"name": "Boiler one", "attributes": {"floor": 2}}
        )
        assert r.status_code == 200
        assert r.json()["name"] == "Boiler one" and r.json()["attributes"] == {"site": "north", "floor": 2}
        assert (await api.get("/customer/devices/nope")).status_code == 404
        revoked = (await api.post(f"/customer/devices/{dev}/revoke")).json()
        assert revoked["status"] == "REVOKED"
        assert (await api.get("/customer/devices", params={"status": "REVOKED"})).json()["total"] == 1


async def test_groups(tenant: Tenant) -> None:
    devs = await tenant.create_devices(3)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/groups", json={"group_id": "lab", "name": "Lab", "description": "bench"}
        )
        assert r.status_code == 201 and r.json()["member_count"] == 0
        assert (
            await api.post("/customer/groups", json={"group_id": "lab", "name": "again"})
        ).status_code == 409
        r = await api.post("/customer/groups/lab/members", json={"device_ids": devs[:2]})
        assert r.json() == {"group_id": "lab", "added": 2, "queued_executions": 0}
        r = await api.post("/customer/groups/lab/members", json={"device_ids": [devs[2], "ghost"]})
        assert r.status_code == 400 and r.json()["unknown_device_ids"] == ["ghost"]
        detail = (await api.get("/customer/groups/lab")).json()
        assert detail["member_count"] == 2  # the failed add changed nothing
        assert [m["device_id"] for m in detail["members"]] == sorted(devs[:2])
        assert (await api.delete(f"/customer/groups/lab/members/{devs[0]}")).status_code == 204
        assert (await api.delete(f"/customer/groups/lab/members/{devs[0]}")).status_code == 404
        listed = (await api.get("/customer/groups")).json()
        assert listed["total"] == 1 and listed["groups"][0]["member_count"] == 1
        assert (await api.get("/customer/groups", params={"q": "lab", "offset": 5})).json()["total"] == 1
        assert (await api.get("/customer/groups", params={"q": "nomatch", "offset": 5})).json()["total"] == 0
        assert (await api.delete("/customer/groups/lab")).status_code == 204
        assert (await api.get("/customer/groups/lab")).status_code == 404


async def test_twin_and_shadow_versions(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    async with tenant.api() as api, tenant.device_api(dev) as d:
        twin = (await api.get(f"/customer/devices/{dev}/twin")).json()
        assert twin["desired"] == {} and twin["desired_version"] == 0 and twin["delta"] == {}
        r = await api.patch(
            f"/customer/devices/{dev}/twin", json={"desired": {"fw": "2.0", "cfg": {"rate": 5}}}
        )
        assert r.status_code == 200 and r.json()["desired_version"] == 1
        r = await api.patch(f"/customer/devices/{dev}/twin", json={"desired": {"cfg": {"mode": "eco"}}})
        assert r.json()["desired"] == {"fw": "2.0", "cfg": {"rate": 5, "mode": "eco"}}
        assert r.json()["desired_version"] == 2
        stale = await api.patch(
            f"/customer/devices/{dev}/twin", json={"desired": {"x": 1}, "expected_version": 1}
        )
        assert stale.status_code == 409 and stale.json()["current"]["desired_version"] == 2

        shadow = (await d.get("/device/v1/shadow")).json()
        assert shadow["delta"] == {"fw": "2.0", "cfg": {"rate": 5, "mode": "eco"}}
        r = await d.post(
            "/device/v1/shadow/reported", json={"reported": {"fw": "2.0", "cfg": {"rate": 5}}, "version": 0}
        )
        assert r.status_code == 200 and r.json()["reported_version"] == 1
        assert r.json()["delta"] == {"cfg": {"mode": "eco"}}
        stale = await d.post("/device/v1/shadow/reported", json={"reported": {"a": 1}, "version": 0})
        assert stale.status_code == 409
        r = await d.post("/device/v1/shadow/reported", json={"reported": {"cfg": {"mode": "eco"}}})
        assert r.json()["delta"] == {} and r.json()["reported_version"] == 2
        twin = (await api.get(f"/customer/devices/{dev}/twin")).json()
        assert twin["reported"] == {"fw": "2.0", "cfg": {"rate": 5, "mode": "eco"}} and twin["delta"] == {}


async def test_last_seen_is_kept_without_writing_every_request(services: Services, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)

    async def seen() -> tuple[datetime | None, int]:
        conn = await connect(services.db.app_url)
        try:
            async with conn.transaction():
                await conn.execute(SET_TENANT, tenant.tenant_id)
                row = await conn.fetchrow(
                    "SELECT last_seen_at, xmin::text::bigint AS xmin FROM device_state WHERE device_id = $1",
                    dev,
                )
                assert row is not None
                return row["last_seen_at"], row["xmin"]
        finally:
            await conn.close()

    assert (await seen())[0] is None
    async with tenant.device_api(dev) as d:
        await d.get("/device/v1/jobs/pending")
        first, xmin = await seen()
        assert first is not None
        for _ in range(10):
            assert (await d.get("/device/v1/jobs/pending")).status_code == 200
        again, xmin2 = await seen()
    assert again == first and xmin2 == xmin  # no write within the interval
    async with tenant.api() as api:
        got = (await api.get(f"/customer/devices/{dev}")).json()
        assert got["online"] is True and got["last_seen_at"] is not None

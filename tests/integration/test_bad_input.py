"""Bad input gets a clear 4xx JSON answer and changes nothing; never a 500."""

import httpx

from tests.conftest import Services, Tenant


def _json_error(r: httpx.Response, status: int | tuple[int, ...]) -> None:
    statuses = (status,) if isinstance(status, int) else status
    assert r.status_code in statuses, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["detail"] and body["error"]


async def test_malformed_and_wrong_types(tenant: Tenant) -> None:
    async with tenant.api() as api:
        _json_error(
            await api.post(
                "/customer/devices", content=b"{not json", headers={"Content-Type": "application/json"}
            ),
            422,
        )
        _json_error(await api.post("/customer/devices", json={"name": 5}), 422)
        _json_error(await api.post("/customer/devices", json={"device_id": "bad id!"}), 422)
        _json_error(await api.post("/customer/devices", json={"attributes": [1, 2]}), 422)
        _json_error(await api.post("/customer/devices", json={"unknown_field": 1}), 422)
        _json_error(await api.post("/customer/devices", json={"name": "x" * 201}), 422)
        _json_error(await api.post("/customer/devices", json={"name": "nul\x00byte"}), 422)
        _json_error(await api.get("/customer/devices", params={"limit": 0}), 422)
        _json_error(await api.get("/customer/devices", params={"limit": "many"}), 422)
        _json_error(await api.get("/customer/devices", params={"status": "DELETED"}), 422)
        _json_error(await api.post("/customer/groups", json={"name": ""}), 422)
        _json_error(await api.post("/customer/groups/x/members", json={"device_ids": []}), 422)
        assert (await api.get("/customer/devices")).json()["total"] == 0


async def test_oversized_bodies_and_fields(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    async with tenant.api() as api:
        big = {"attributes": {"blob": "x" * (17 * 1024)}}
        _json_error(await api.post("/customer/devices", json=big), 422)
        _json_error(
            await api.post(
                "/customer/devices",
                content=b"{" + b" " * (300 * 1024) + b"}",
                headers={"Content-Type": "application/json"},
            ),
            413,
        )
        deep: dict[str, object] = {}
        cur = deep
        for _ in range(40):
            nxt: dict[str, object] = {}
            cur["k"] = nxt
            cur = nxt
        _json_error(await api.patch(f"/customer/devices/{dev}/twin", json={"desired": deep}), 422)
    async with tenant.device_api(dev) as d:
        _json_error(await d.post("/device/v1/shadow/reported", content=b"x" * (65 * 1024)), 413)
        _json_error(await d.post("/device/v1/shadow/reported", json={"reported": "not an object"}), 422)
        _json_error(await d.post("/device/v1/shadow/reported", json={"reported": {"s": "a\u0000b"}}), 422)


async def test_hostile_path_parameters(tenant: Tenant) -> None:
    await tenant.create_devices(1)
    async with tenant.api() as api:
        for evil in (
            "' OR 1=1 --",
            "..%2F..%2Fetc%2Fpasswd",
            "%00",
            "d-00000'; DROP TABLE jobs; --",
            "ü" * 300,
        ):
            for path in (
                f"/customer/devices/{evil}",
                f"/customer/jobs/{evil}",
                f"/customer/groups/{evil}",
                f"/customer/devices/{evil}/twin",
            ):
                r = await api.get(path)
                assert r.status_code in (400, 404, 422), (path, r.status_code, r.text)
                assert r.json()["error"]
        assert (await api.get("/customer/devices")).json()["total"] == 1


async def test_unknown_routes_and_methods_are_json(services: Services) -> None:
    async with httpx.AsyncClient(base_url=services.ui.url) as c:
        _json_error(await c.get("/customer/nothing-here"), (401, 404))
        _json_error(await c.put("/auth/token"), 405)
    async with httpx.AsyncClient(base_url=services.device.url) as c:
        _json_error(await c.get("/device/v1/nothing"), 404)

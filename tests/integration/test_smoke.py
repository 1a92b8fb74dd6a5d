from tests.conftest import Tenant


async def test_device_roundtrip(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    async with tenant.device_api(dev) as d:
        r = await d.get("/device/v1/shadow")
        assert r.status_code == 200, r.text
        assert r.json()["device_id"] == dev

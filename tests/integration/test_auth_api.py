"""Login, bearer tokens, roles, revoked devices."""

import time

import httpx

from shared.auth import Principal, issue_token
from shared.infra.db import SET_TENANT, connect
from tests.conftest import TEST_SECRET, Services, Tenant, make_tenant


async def test_login_returns_a_working_token(services: Services, tenant: Tenant) -> None:
    async with httpx.AsyncClient(base_url=services.ui.url) as c:
        r = await c.post(
            "/auth/token", data={"username": f"admin@{tenant.tenant_id}.test", "password": "password-123"}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (
            body["token_type"] == "bearer"
            and body["tenant_id"] == tenant.tenant_id
            and body["role"] == "admin"
        )
        me = await c.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200 and me.json()["email"] == f"admin@{tenant.tenant_id}.test"


async def test_bad_logins(services: Services, tenant: Tenant) -> None:
    async with httpx.AsyncClient(base_url=services.ui.url) as c:
        for data in (
            {"username": f"admin@{tenant.tenant_id}.test", "password": "wrong"},
            {"username": "nobody@nowhere.test", "password": "password-123"},
        ):
            r = await c.post("/auth/token", data=data)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        r = await c.post("/auth/token", json={"username": "x"})
        assert r.status_code == 422 and "detail" in r.json()


async def test_missing_expired_and_tampered_tokens_get_401(services: Services, tenant: Tenant) -> None:
    principal = Principal(tenant.tenant_id, "00000000-0000-0000-0000-000000000000", "x@y", "admin")
    expired = issue_token(principal, TEST_SECRET, 60, now=time.time() - 7200)
    header, payload, sig = tenant.token.split(".")
    tampered = f"{header}.{payload}.{sig[:-4]}AAAA"
    async with httpx.AsyncClient(base_url=services.ui.url) as c:
        for headers in (
            {},
            {"Authorization": f"Bearer {expired}"},
            {"Authorization": f"Bearer {tampered}"},
            {"Authorization": "Bearer not-a-jwt"},
            {"Authorization": "Basic abc"},
        ):
            for path in ("/customer/devices", "/customer/jobs", "/customer/groups"):
                r = await c.get(path, headers=headers)
                assert r.status_code == 401, (headers, path, r.text)
                assert r.headers["content-type"].startswith("application/json")
                assert r.json()["error"] == "unauthorized"


async def test_deleted_user_gets_401(services: Services) -> None:
    t = await make_tenant(services)
    owner = await connect(services.db.owner_url)
    try:
        await owner.execute("DELETE FROM users WHERE tenant_id = $1", t.tenant_id)
    finally:
        await owner.close()
    async with t.api() as api:
        assert (await api.get("/customer/devices")).status_code == 401


async def test_viewer_reads_but_cannot_write(services: Services, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    viewer = await make_tenant(services, role="viewer", tenant_id=tenant.tenant_id)
    async with viewer.api() as api:
        assert (await api.get("/customer/devices")).status_code == 200
        assert (await api.get(f"/customer/devices/{dev}/twin")).status_code == 200
        writes = [
            api.post("/customer/devices", json={"name": "x"}),
            api.patch(f"/customer/devices/{dev}", json={"name": "y"}),
            api.post(f"/customer/devices/{dev}/revoke"),
            api.post(f"/customer/devices/{dev}/rotate-token"),
            api.patch(f"/customer/devices/{dev}/twin", json={"desired": {"a": 1}}),
            api.post("/customer/groups", json={"name": "g"}),
            api.post("/customer/jobs", json={"document_type": "reboot", "target_device_id": dev}),
        ]
        for call in writes:
            r = await call
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "forbidden"
    async with tenant.api() as api:
        assert (await api.get(f"/customer/devices/{dev}")).json()["name"] == "d 0"


async def test_device_token_auth(services: Services, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    async with httpx.AsyncClient(base_url=services.device.url) as c:
        assert (await c.get("/device/v1/shadow")).status_code == 401
        assert (
            await c.get("/device/v1/shadow", headers={"X-Provision-Token": "tok-unknown"})
        ).status_code == 401
    async with tenant.device_api(dev) as d:
        assert (await d.get("/device/v1/jobs/pending")).status_code == 200
    async with tenant.api() as api:
        r = await api.post(f"/customer/devices/{dev}/revoke")
        assert r.status_code == 200 and r.json()["status"] == "REVOKED"
    async with tenant.device_api(dev) as d:
        r = await d.get("/device/v1/shadow")
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"


async def test_rotated_token_replaces_the_old_one(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    old = tenant.tokens[dev]
    async with tenant.api() as api:
        r = await api.post(f"/customer/devices/{dev}/rotate-token")
        assert r.status_code == 200
        tenant.tokens[dev] = r.json()["provision_token"]
    assert tenant.tokens[dev] != old
    async with tenant.device_api(dev) as d:
        assert (await d.get("/device/v1/shadow")).status_code == 200
        assert (await d.get("/device/v1/shadow", headers={"X-Provision-Token": old})).status_code == 401


async def test_only_token_hashes_are_stored(services: Services, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1)
    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            stored = await conn.fetchval("SELECT token_hash FROM device_state WHERE device_id = $1", dev)
    finally:
        await conn.close()
    assert tenant.tokens[dev] not in stored and len(stored) == 64

"""The users API over real HTTP: an admin creates operators (with a generated password shown once, which then
logs in), lists them, changes their role and disables them; a disabled user can neither log in nor use a
token issued before. Only admins may; a tenant never sees nor touches another's users; the tenant keeps an
enabled admin (409), even when two admins demote each other at the same moment."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from shared.infra.db import connect
from tests.conftest import Services, Tenant, make_tenant
from tests.support.locks import until_waiting


async def create(tenant: Tenant, email: str, role: str = "operator") -> dict[str, Any]:
    async with tenant.api() as api:
        r = await api.post("/customer/users", json={"email": email, "role": role})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def log_in(services: Services, email: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=services.ui.url, timeout=60) as c:
        return await c.post("/auth/token", data={"username": email, "password": password})


def bearer(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def stored_users(services: Services, tenant_id: str) -> list[dict[str, Any]]:
    owner = await connect(services.db.owner_url)
    try:
        rows = await owner.fetch(
            "SELECT email, role, disabled, password_hash FROM users WHERE tenant_id = $1 ORDER BY email",
            tenant_id,
        )
        return [dict(r) for r in rows]
    finally:
        await owner.close()


async def admin_id(tenant: Tenant) -> str:
    async with tenant.api() as api:
        return str((await api.get("/auth/me")).json()["user_id"])


async def test_an_admin_creates_a_user_whose_password_is_shown_once_and_logs_in(
    services: Services, tenant: Tenant
) -> None:
    email = f"ops@{tenant.tenant_id}.test"
    user = await create(tenant, email, "operator")
    assert (user["email"], user["role"], user["disabled"]) == (email, "operator", False)
    assert len(user["password"]) >= 20
    uuid.UUID(user["user_id"])
    # the password logs in; only its hash is stored
    login = await log_in(services, email, user["password"])
    assert login.json()["role"] == "operator"
    [stored] = [u for u in await stored_users(services, tenant.tenant_id) if u["email"] == email]
    assert user["password"] not in stored["password_hash"]
    async with tenant.api() as api:
        listed = (await api.get("/customer/users")).json()["users"]
    assert [(u["email"], u["role"], u["disabled"]) for u in listed] == [
        (f"admin@{tenant.tenant_id}.test", "admin", False),
        (email, "operator", False),
    ]
    assert all("password" not in u for u in listed)


async def test_only_admins_manage_users(services: Services, tenant: Tenant) -> None:
    for role in ("operator", "viewer"):
        user = await create(tenant, f"{role}@{tenant.tenant_id}.example", role)
        headers = bearer(await log_in(services, user["email"], user["password"]))
        async with httpx.AsyncClient(base_url=services.ui.url, headers=headers) as api:
            for method, path, body in (
                ("GET", "/customer/users", None),
                ("POST", "/customer/users", {"email": f"x-{role}@{tenant.tenant_id}.test"}),
                ("PATCH", f"/customer/users/{user['user_id']}", {"role": "admin"}),
            ):
                r = await api.request(method, path, json=body)
                assert r.status_code == 403, (role, method, r.text)
                assert r.json()["error"] == "forbidden"
    assert {u["role"] for u in await stored_users(services, tenant.tenant_id)} == {
        "admin",
        "operator",
        "viewer",
    }
    assert len(await stored_users(services, tenant.tenant_id)) == 3


async def test_a_taken_email_is_refused_in_any_tenant_and_bad_input_is_422(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    taken = f"admin@{other_tenant.tenant_id}.test"
    async with tenant.api() as api:
        for email in (taken, taken.upper(), f"admin@{tenant.tenant_id}.test"):
            r = await api.post("/customer/users", json={"email": email})
            assert r.status_code == 409, r.text
            assert r.json()["error"] == "conflict"
        for body in ({"email": "no-at-sign"}, {"email": "a@b.c", "role": "root"}, {"email": "a@b.c", "x": 1}):
            assert (await api.post("/customer/users", json=body)).status_code == 422
        assert (
            await api.patch(f"/customer/users/{uuid.uuid4()}", json={"role": "viewer"})
        ).status_code == 404
        assert (await api.patch("/customer/users/not-a-uuid", json={"role": "viewer"})).status_code == 422
    assert len(await stored_users(services, tenant.tenant_id)) == 1
    assert len(await stored_users(services, other_tenant.tenant_id)) == 1


async def test_another_tenants_users_are_out_of_sight_and_reach(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await create(other_tenant, f"ops@{other_tenant.tenant_id}.test")
    async with tenant.api() as api:
        emails = {u["email"] for u in (await api.get("/customer/users")).json()["users"]}
        assert emails == {f"admin@{tenant.tenant_id}.test"}
        for body in ({"role": "admin"}, {"disabled": True}):
            r = await api.patch(f"/customer/users/{theirs['user_id']}", json=body)
            assert r.status_code == 404, r.text
        r = await api.patch(f"/customer/users/{await admin_id(other_tenant)}", json={"disabled": True})
        assert r.status_code == 404
    async with other_tenant.api() as api:
        listed = {u["email"]: u for u in (await api.get("/customer/users")).json()["users"]}
    assert listed[theirs["email"]]["role"] == "operator" and not listed[theirs["email"]]["disabled"]


async def test_role_changes_and_disabling_bite_at_once(services: Services, tenant: Tenant) -> None:
    user = await create(tenant, f"ops@{tenant.tenant_id}.test", "operator")
    headers = bearer(await log_in(services, user["email"], user["password"]))
    async with httpx.AsyncClient(base_url=services.ui.url, headers=headers) as as_user, tenant.api() as admin:
        assert (await as_user.post("/customer/devices", json={"device_id": "by-op"})).status_code == 201
        r = await admin.patch(f"/customer/users/{user['user_id']}", json={"role": "viewer"})
        assert r.status_code == 200 and r.json()["role"] == "viewer"
        # the token still says operator; the role now is what counts
        assert (await as_user.post("/customer/devices", json={"device_id": "by-viewer"})).status_code == 403
        assert (await as_user.get("/customer/devices")).status_code == 200
        r = await admin.patch(f"/customer/users/{user['user_id']}", json={"disabled": True})
        assert r.status_code == 200 and r.json()["disabled"] is True
        for method, path in (("GET", "/customer/devices"), ("GET", "/auth/me"), ("POST", "/customer/groups")):
            r = await as_user.request(method, path, json={"group_id": "g", "name": "g"})
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["detail"] == "user is disabled or no longer exists"
        refused = await log_in(services, user["email"], user["password"])
        assert refused.status_code == 401 and "disabled" in refused.json()["detail"]
        wrong = await log_in(services, user["email"], "not-the-password")
        assert wrong.json()["detail"] == "incorrect e-mail or password"  # says nothing of disabled
        # enabled again: the old token works again, and so does the password
        r = await admin.patch(f"/customer/users/{user['user_id']}", json={"disabled": False})
        assert r.status_code == 200 and r.json()["disabled"] is False
        assert (await as_user.get("/auth/me")).status_code == 200
    assert (await log_in(services, user["email"], user["password"])).status_code == 200


async def test_the_last_enabled_admin_cannot_demote_nor_disable_themselves(
    services: Services, tenant: Tenant
) -> None:
    me = await admin_id(tenant)
    async with tenant.api() as api:
        for body in ({"role": "operator"}, {"disabled": True}, {"role": "viewer", "disabled": False}):
            r = await api.patch(f"/customer/users/{me}", json=body)
            assert r.status_code == 409, r.text
            assert "last enabled admin" in r.json()["detail"]
        assert (await api.patch(f"/customer/users/{me}", json={"role": "admin"})).status_code == 200
        # a disabled admin does not count: another admin, disabled, leaves this one the last
        second = await create(tenant, f"second@{tenant.tenant_id}.test", "admin")
        assert (
            await api.patch(f"/customer/users/{second['user_id']}", json={"disabled": True})
        ).status_code == 200
        assert (await api.patch(f"/customer/users/{me}", json={"role": "operator"})).status_code == 409
        # once the other is enabled, this one may step down
        assert (
            await api.patch(f"/customer/users/{second['user_id']}", json={"disabled": False})
        ).status_code == 200
        assert (await api.patch(f"/customer/users/{me}", json={"role": "operator"})).status_code == 200
    stored = {u["email"]: u["role"] for u in await stored_users(services, tenant.tenant_id)}
    assert stored == {f"admin@{tenant.tenant_id}.test": "operator", second["email"]: "admin"}


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(services: Services) -> None:
    tenant = await make_tenant(services)
    first = await admin_id(tenant)
    other = await create(tenant, f"other@{tenant.tenant_id}.test", "admin")
    other_headers = bearer(await log_in(services, other["email"], other["password"]))
    admin = await connect(services.db.admin_url)
    owner = await connect(services.db.owner_url)
    try:
        async with (
            tenant.api() as a,
            httpx.AsyncClient(base_url=services.ui.url, headers=other_headers, timeout=30) as b,
        ):
            async with owner.transaction():  # both requests queue on the admins' rows, then go together
                await owner.execute("SELECT 1 FROM users WHERE tenant_id = $1 FOR UPDATE", tenant.tenant_id)
                both = asyncio.ensure_future(
                    asyncio.gather(
                        a.patch(f"/customer/users/{other['user_id']}", json={"role": "operator"}),
                        b.patch(f"/customer/users/{first}", json={"disabled": True}),
                    )
                )
                await until_waiting(admin, services.db.name, 2, both)
            answers = await both
    finally:
        await owner.close()
        await admin.close()
    statuses = sorted(r.status_code for r in answers)
    assert statuses[0] == 200 and statuses[1] in (403, 409), [r.text for r in answers]
    enabled_admins = [
        u
        for u in await stored_users(services, tenant.tenant_id)
        if u["role"] == "admin" and not u["disabled"]
    ]
    assert len(enabled_admins) == 1

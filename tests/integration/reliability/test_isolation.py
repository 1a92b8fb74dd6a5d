"""Tenant isolation: tenant B's credentials aimed at tenant A's objects, on every route, answer 404 and
change nothing; at the database level the runtime role sees only its tenant's rows and cannot lift RLS."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from shared.infra.db import SET_TENANT, connect
from tests.conftest import TEST_SECRET
from tests.integration.reliability.accounts import Account, create_devices, new_tenant
from tests.integration.reliability.conftest import Apps
from tests.integration.reliability.snapshot import TABLES, tenant_state
from tests.integration.reliability.tally import client

# Bodies that would be accepted for the caller's own objects, so that only ownership decides the answer.
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/customer/devices/{device_id}"): {"name": "stolen"},
    ("PATCH", "/customer/devices/{device_id}/twin"): {"desired": {"pwned": True}},
    ("POST", "/customer/groups/{group_id}/members"): {"device_ids": ["a-00000"]},
    ("DELETE", "/customer/jobs/{job_id}"): {"reason": "stolen"},
    ("PATCH", "/customer/users/{user_id}"): {"role": "viewer", "disabled": True},
}


# Ways to lift or get around RLS, and the refusal each must meet as the runtime role.
LIFTS: dict[str, str | tuple[str, ...]] = {
    "ALTER TABLE jobs DISABLE ROW LEVEL SECURITY": "must be owner of table jobs",
    "ALTER TABLE device_state NO FORCE ROW LEVEL SECURITY": "must be owner of table device_state",
    "DROP POLICY tenant_isolation ON job_executions": "must be owner of relation job_executions",
    # PostgreSQL 15 says the first, 16 and later the second
    "ALTER ROLE iotcloud_app BYPASSRLS": (
        "must be superuser to change bypassrls attribute",
        "permission denied to alter role\nDETAIL:  Only roles with the CREATEROLE attribute and the ADMIN option "
        'on role "iotcloud_app" may alter this role.',
    ),
    "SET ROLE iot": 'permission denied to set role "iot"',
    "SET SESSION AUTHORIZATION iot": 'permission denied to set session authorization "iot"',
    "DELETE FROM job_execution_events": "permission denied for table job_execution_events",
    "TRUNCATE jobs CASCADE": "permission denied for table jobs",
}


async def _tenant_a(apps: Apps) -> tuple[Account, dict[str, str]]:
    a = await new_tenant(apps.db, TEST_SECRET)
    await create_devices(a, apps.ui.url, 2, prefix="a")
    async with client(apps.ui.url, headers=a.auth) as api:
        assert (await api.post("/customer/groups", json={"group_id": "ga", "name": "A"})).status_code == 201
        r = await api.post("/customer/groups/ga/members", json={"device_ids": ["a-00000"]})
        assert r.status_code == 200
        r = await api.post(
            "/customer/jobs", json={"job_id": "ja", "document_type": "ota", "target_group_id": "ga"}
        )
        assert r.status_code == 201, r.text
        r = await api.post("/customer/artifacts?name=fw-a.bin", content=b"A's firmware")
        assert r.status_code == 201, r.text
        r = await api.post("/customer/job-templates", json={"template_id": "ta", "document_type": "ota"})
        assert r.status_code == 201, r.text
        r = await api.post("/customer/access-keys")
        assert r.status_code == 201, r.text
        key_id = r.json()["access_key_id"]
    return a, {
        "device_id": "a-00000",
        "group_id": "ga",
        "job_id": "ja",
        "name": "fw-a.bin",
        "user_id": a.user_id,
        "template_id": "ta",
        "access_key_id": key_id,
    }


async def test_cross_tenant_matrix_answers_404_and_changes_nothing(apps: Apps) -> None:
    a, ids = await _tenant_a(apps)
    b = await new_tenant(apps.db, TEST_SECRET)
    await create_devices(b, apps.ui.url, 1, prefix="b")
    before = await tenant_state(apps.db.owner_url, a.tenant_id, ignore=("last_seen_at",))
    spec = apps.ui.app.openapi()
    tried = []
    async with client(apps.ui.url, headers=b.auth) as api:
        for path, item in spec["paths"].items():
            if not path.startswith("/customer") or "{" not in path:
                continue
            for method in item:
                url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
                body = BODIES.get((method.upper(), path))
                r = await api.request(method.upper(), url, json=body)
                tried.append(f"{method.upper()} {path}")
                assert r.status_code == 404, f"{method.upper()} {url} as B -> {r.status_code} {r.text}"
                assert r.json()["error"] == "not_found"
        # A's objects used as references inside B's own requests
        for body in (
            {"document_type": "ota", "target_device_id": "a-00000"},
            {"document_type": "ota", "target_group_id": "ga"},
            {"template_id": "ta", "target_all": True},
        ):
            assert (await api.post("/customer/jobs", json=body)).status_code == 404
        assert (await api.post("/customer/groups", json={"group_id": "gb", "name": "B"})).status_code == 201
        # A's device is as unknown to B as a device that does not exist: same answer, no oracle
        r = await api.post("/customer/groups/gb/members", json={"device_ids": ["a-00000"]})
        ghost = await api.post("/customer/groups/gb/members", json={"device_ids": ["nope-1"]})
        assert r.status_code == ghost.status_code and r.status_code in (400, 404), r.text
        assert r.json()["error"] == ghost.json()["error"]
        # lists show none of A's objects
        for path, key in (
            ("/customer/devices", "devices"),
            ("/customer/jobs", "jobs"),
            ("/customer/groups", "groups"),
            ("/customer/job-templates", "templates"),
            ("/customer/audit", "entries"),
        ):
            r = await api.get(path)
            assert r.status_code == 200
            assert all(not str(x).count("a-00000") and x.get("job_id") != "ja" for x in r.json()[key]), r.text
            assert all(x.get("template_id") != "ta" and x.get("target_id") != "ja" for x in r.json()[key])
        # the dashboard counts only B's own: its one device, none of A's jobs
        dash = (await api.get("/customer/dashboard")).json()
        assert dash["devices"]["total"] == 1 and dash["jobs"]["active"] == [], dash
        assert sum(dash["jobs"]["by_status"].values()) == 0 and "ja" not in str(dash["failures"]), dash
    assert len(tried) >= 15, tried
    # B's device, aimed at A's job executions
    async with client(apps.device.url, headers={"X-Provision-Token": b.tokens["b-00000"]}) as dev:
        assert (await dev.get("/device/v1/jobs/ja/execution")).status_code == 404
        r = await dev.put("/device/v1/jobs/ja/execution", json={"status": "IN_PROGRESS"})
        assert r.status_code == 404
        assert (await dev.get("/device/v1/jobs/pending")).json()["jobs"] == []
        assert (await dev.get("/device/v1/shadow")).json()["device_id"] == "b-00000"
    assert await tenant_state(apps.db.owner_url, a.tenant_id, ignore=("last_seen_at",)) == before
    print(f"\nisolation matrix: {len(tried)} customer routes x tenant B -> 404")


async def test_runtime_role_sees_only_its_tenant_and_cannot_lift_rls(apps: Apps) -> None:
    a, _ = await _tenant_a(apps)
    b = await new_tenant(apps.db, TEST_SECRET)
    await create_devices(b, apps.ui.url, 1, prefix="b")
    conn = await connect(apps.db.app_url)
    try:
        async with conn.transaction():  # no tenant set: nothing at all
            for table in TABLES:
                assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
        async with conn.transaction():
            await conn.execute(SET_TENANT, b.tenant_id)
            for table in TABLES:  # no WHERE clause: still only B's rows
                owners = {r[0] for r in await conn.fetch(f"SELECT DISTINCT tenant_id FROM {table}")}
                assert owners <= {b.tenant_id}, (table, owners)
            assert await conn.fetchval("SELECT count(*) FROM device_state") == 1
            assert (
                await conn.execute("UPDATE device_state SET name = 'x' WHERE tenant_id = $1", a.tenant_id)
                == "UPDATE 0"
            )
            assert (
                await conn.execute("DELETE FROM device_groups WHERE tenant_id = $1", a.tenant_id)
                == "DELETE 0"
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError) as err:  # the policy's WITH CHECK
            async with conn.transaction():
                await conn.execute(SET_TENANT, b.tenant_id)
                await conn.execute(
                    "INSERT INTO device_groups (tenant_id, group_id, name) VALUES ($1, 'planted', 'x')",
                    a.tenant_id,
                )
        assert str(err.value) == 'new row violates row-level security policy for table "device_groups"'
        for stmt, refusal in LIFTS.items():  # each refused for want of privilege (42501), for its reason
            with pytest.raises(asyncpg.InsufficientPrivilegeError) as err:
                async with conn.transaction():
                    await conn.execute(stmt)
            refusals = refusal if isinstance(refusal, tuple) else (refusal,)
            assert err.value.sqlstate == "42501" and str(err.value) in refusals, (stmt, str(err.value))
        row = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert row is not None and not row["rolsuper"] and not row["rolbypassrls"]
        # row_security = off does not switch policies off for this role: reading then fails outright
        with pytest.raises(asyncpg.InsufficientPrivilegeError) as err:
            async with conn.transaction():
                await conn.execute("SET LOCAL row_security = off")
                await conn.execute(SET_TENANT, b.tenant_id)
                await conn.fetch("SELECT * FROM jobs")
        assert str(err.value) == 'query would be affected by row-level security policy for table "jobs"'
    finally:
        await conn.close()
    owner = await connect(apps.db.owner_url)
    try:
        assert await owner.fetchval("SELECT count(*) FROM device_groups WHERE group_id = 'planted'") == 0
        assert (
            await owner.fetchval(
                "SELECT name FROM device_state WHERE tenant_id = $1 AND device_id = 'a-00000'", a.tenant_id
            )
            == ""
        )
    finally:
        await owner.close()

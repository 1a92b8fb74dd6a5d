"""Tenant B never sees or touches tenant A's rows: at the database level and over HTTP."""

from shared.infra.db import SET_TENANT, connect
from tests.conftest import Services, Tenant
from tests.support.schema import TENANT_TABLES

TABLES = TENANT_TABLES


async def _seed(a: Tenant) -> tuple[str, str]:
    devs = await a.create_devices(2)
    await a.create_group("g-a", devs)
    async with a.api() as api:
        r = await api.post(
            "/customer/jobs", json={"job_id": "job-a", "document_type": "reboot", "target_group_id": "g-a"}
        )
        assert r.status_code == 201, r.text
    async with a.device_api(devs[0]) as d:
        assert (
            await d.put("/device/v1/jobs/job-a/execution", json={"status": "IN_PROGRESS"})
        ).status_code == 200
    return devs[0], "job-a"


async def test_rls_hides_other_tenants_rows_without_where(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    await _seed(tenant)
    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, other_tenant.tenant_id)
            for table in TABLES:
                rows = await conn.fetch(f"SELECT tenant_id FROM {table}")
                assert all(r["tenant_id"] == other_tenant.tenant_id for r in rows), table
                assert not any(r["tenant_id"] == tenant.tenant_id for r in rows), table
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            assert await conn.fetchval("SELECT count(*) FROM job_executions") == 2
            # an UPDATE aimed at the other tenant's rows finds none: USING hides them (the writes that
            # WITH CHECK refuses, table by table, are in test_rls_tables.py)
            status = await conn.execute(
                "UPDATE device_state SET name = 'x' WHERE tenant_id = $1", other_tenant.tenant_id
            )
            assert status == "UPDATE 0"
    finally:
        await conn.close()


async def test_other_tenant_gets_404_everywhere(tenant: Tenant, other_tenant: Tenant) -> None:
    dev, job = await _seed(tenant)
    async with other_tenant.api() as api:
        reads = [
            f"/customer/devices/{dev}",
            f"/customer/devices/{dev}/twin",
            f"/customer/devices/{dev}/jobs",
            "/customer/groups/g-a",
            f"/customer/jobs/{job}",
            f"/customer/jobs/{job}/executions",
            f"/customer/jobs/{job}/executions/{dev}/events",
        ]
        for path in reads:
            r = await api.get(path)
            assert r.status_code == 404, (path, r.text)
        writes = [
            api.patch(f"/customer/devices/{dev}", json={"name": "pwned"}),
            api.post(f"/customer/devices/{dev}/revoke"),
            api.post(f"/customer/devices/{dev}/rotate-token"),
            api.patch(f"/customer/devices/{dev}/twin", json={"desired": {"x": 1}}),
            api.delete("/customer/groups/g-a"),
            api.post("/customer/groups/g-a/members", json={"device_ids": [dev]}),
            api.delete(f"/customer/groups/g-a/members/{dev}"),
            api.delete(f"/customer/jobs/{job}"),
            api.post("/customer/jobs", json={"document_type": "x", "target_device_id": dev}),
            api.post("/customer/jobs", json={"document_type": "x", "target_group_id": "g-a"}),
        ]
        for call in writes:
            r = await call
            assert r.status_code == 404, r.text
        listed = (await api.get("/customer/jobs")).json()
        assert listed["total"] == 0
        assert (await api.get("/customer/devices")).json()["total"] == 0
    async with tenant.api() as api:
        assert (await api.get(f"/customer/devices/{dev}")).json()["name"] == "d 0"
        job_body = (await api.get(f"/customer/jobs/{job}")).json()
        assert job_body["status"] == "IN_PROGRESS" and job_body["counts"]["in_progress"] == 1


async def test_device_cannot_reach_other_tenants_job(tenant: Tenant, other_tenant: Tenant) -> None:
    _, job = await _seed(tenant)
    [intruder] = await other_tenant.create_devices(1)
    async with other_tenant.device_api(intruder) as d:
        assert (await d.get(f"/device/v1/jobs/{job}/execution")).status_code == 404
        r = await d.put(f"/device/v1/jobs/{job}/execution", json={"status": "SUCCEEDED"})
        assert r.status_code == 404
        assert (await d.get("/device/v1/jobs/pending")).json()["jobs"] == []

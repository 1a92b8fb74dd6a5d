"""The operator audit log over HTTP: every recorded action leaves one row, written in the action's own
transaction (a refused action leaves none), with the operator from the token; `GET /customer/audit` pages
(keyset) and filters; another tenant sees nothing; the runtime role may only append."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from shared import audit
from shared.infra.db import SET_TENANT, connect, tenant_tx
from tests.conftest import Services, Tenant, make_tenant

T0 = datetime(2036, 1, 1, tzinfo=UTC)


async def _entries(tenant: Tenant, query: str = "") -> list[dict[str, Any]]:
    async with tenant.api() as api:
        r = await api.get(f"/customer/audit{query}")
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])


def _brief(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["action"], e["target_type"], e["target_id"]) for e in reversed(entries)]  # oldest first


async def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


async def test_every_recorded_action(clock: Services, tenant: Tenant) -> None:
    devs = await tenant.create_devices(4, prefix="au")
    await tenant.create_group("au", devs)
    clock.set_clock(T0)
    async with tenant.api() as api:
        await _ok(
            await api.post(
                "/customer/jobs", json={"job_id": "j1", "document_type": "x", "target_group_id": "au"}
            ),
            201,
        )
        await _ok(await api.post(f"/customer/jobs/j1/executions/{devs[0]}/cancel"))
        await _ok(await api.post(f"/customer/jobs/j1/executions/{devs[0]}/delete"))
        await _ok(await api.request("DELETE", "/customer/jobs/j1", json={"reason": "wrong build"}))
        await _ok(await api.post("/customer/jobs/j1/delete"))
        await _ok(
            await api.post("/customer/jobs", json={"job_id": "j2", "document_type": "x", "target_all": True}),
            201,
        )
        await _ok(await api.post("/customer/jobs/j2/cancel", json={"reason_code": "OOPS", "comment": "c"}))
        await _ok(
            await api.post("/customer/jobs", json={"job_id": "j3", "document_type": "x", "target_all": True}),
            201,
        )
        await _ok(await api.post("/customer/jobs/j3/cancel", json={"force": True}))
        await _ok(
            await api.post("/customer/job-templates", json={"template_id": "tp", "document_type": "x"}), 201
        )
        await _ok(await api.delete("/customer/job-templates/tp"))
        await _ok(await api.post(f"/customer/devices/{devs[1]}/revoke"))
        await _ok(await api.post(f"/customer/devices/{devs[2]}/rotate-token"))
        await _ok(await api.patch(f"/customer/devices/{devs[3]}/twin", json={"desired": {"led": "on"}}))
    entries = await _entries(tenant, "?limit=500")
    assert _brief(entries) == [
        ("job.created", "job", "j1"),
        ("execution.canceled", "execution", f"j1/{devs[0]}"),
        ("execution.deleted", "execution", f"j1/{devs[0]}"),
        ("job.canceled", "job", "j1"),
        ("job.deleted", "job", "j1"),
        ("job.created", "job", "j2"),
        ("job.canceled", "job", "j2"),
        ("job.created", "job", "j3"),
        ("job.canceled", "job", "j3"),
        ("template.created", "template", "tp"),
        ("template.deleted", "template", "tp"),
        ("device.revoked", "device", devs[1]),
        ("device.token_rotated", "device", devs[2]),
        ("twin.edited", "device", devs[3]),
    ]
    # every action but the artifacts' (their own test below), the access keys' (test_aws_auth.py) and the AWS
    # API's UpdateJob (test_aws_control_plane.py)
    assert {e["action"] for e in entries} == set(audit.AUDIT_ACTIONS) - {
        "artifact.uploaded",
        "artifact.deleted",
        "access_key.created",
        "access_key.revoked",
        "job.updated",
    }
    for e in entries:
        assert e["actor"] == f"admin@{tenant.tenant_id}.test" and e["actor_user_id"]
        assert datetime.fromisoformat(e["at"].replace("Z", "+00:00")) == T0
    by = {(e["action"], e["target_id"]): e["details"] for e in entries}
    assert by[("job.created", "j1")] == {
        "document_type": "x",
        "target": {"type": "group", "id": "au"},
        "template_id": None,
        "execution_count": 4,
    }
    assert by[("job.canceled", "j1")] == {"mode": "reject", "reason": "wrong build"}
    assert by[("job.canceled", "j2")] == {
        "mode": "cancel",
        "force": False,
        "reason_code": "OOPS",
        "comment": "c",
    }
    assert by[("job.canceled", "j3")]["mode"] == "force"
    assert by[("execution.canceled", f"j1/{devs[0]}")] == {
        "force": False,
        "status": "CANCELED",
        "execution_number": 2,
    }
    assert by[("twin.edited", devs[3])] == {"desired": {"led": "on"}, "desired_version": 1}


async def test_a_refused_action_records_nothing(tenant: Tenant) -> None:
    devs = await tenant.create_devices(1, prefix="ar")
    async with tenant.api() as api:
        await _ok(
            await api.post("/customer/jobs", json={"job_id": "r", "document_type": "x", "target_all": True}),
            201,
        )
        await _ok(await api.put("/customer/jobs/r", json={}), 405)
        await _ok(await api.post("/customer/jobs/r/delete"), 409)  # running: needs force
        await _ok(await api.post(f"/customer/jobs/r/executions/{devs[0]}/delete"), 409)
        await _ok(
            await api.post("/customer/jobs", json={"job_id": "r", "document_type": "x", "target_all": True}),
            409,
        )
        await _ok(await api.post("/customer/jobs/ghost/cancel"), 404)
        await _ok(await api.post("/customer/devices/ghost/revoke"), 404)
        await _ok(
            await api.patch(f"/customer/devices/{devs[0]}/twin", json={"desired": {}, "expected_version": 9}),
            409,
        )
        await _ok(
            await api.post("/customer/job-templates", json={"template_id": "t", "document_type": ""}), 422
        )
        await _ok(await api.delete("/customer/job-templates/ghost"), 404)
    assert _brief(await _entries(tenant)) == [("job.created", "job", "r")]


async def test_pages_and_filters(clock: Services, tenant: Tenant) -> None:
    devs = await tenant.create_devices(3, prefix="af")
    async with tenant.api() as api:
        for i, dev in enumerate(devs):
            clock.set_clock(T0 + timedelta(minutes=i))
            await _ok(await api.post(f"/customer/devices/{dev}/rotate-token"))
        clock.set_clock(T0 + timedelta(minutes=10))
        await _ok(await api.post(f"/customer/devices/{devs[0]}/revoke"))
    all_ = await _entries(tenant)
    assert _brief(all_) == [("device.token_rotated", "device", d) for d in devs] + [
        ("device.revoked", "device", devs[0])
    ]
    async with tenant.api() as api:
        page = await _ok(await api.get("/customer/audit?limit=3"))
        assert [e["audit_id"] for e in page["entries"]] == [e["audit_id"] for e in all_[:3]]
        assert page["next_after"] == all_[2]["audit_id"]
        rest = await _ok(await api.get(f"/customer/audit?limit=3&after={page['next_after']}"))
        assert [e["audit_id"] for e in rest["entries"]] == [all_[3]["audit_id"]] and rest[
            "next_after"
        ] is None
    assert _brief(await _entries(tenant, "?action=device.revoked")) == [("device.revoked", "device", devs[0])]
    assert len(await _entries(tenant, f"?target_type=device&target_id={devs[0]}")) == 2
    assert await _entries(tenant, "?target_type=job") == []
    assert len(await _entries(tenant, f"?actor=admin@{tenant.tenant_id}.test")) == 4
    assert await _entries(tenant, "?actor=cli") == []
    since = (T0 + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    until = (T0 + timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    assert _brief(await _entries(tenant, f"?since={since}&until={until}")) == [
        ("device.token_rotated", "device", d) for d in devs[1:]
    ]
    async with tenant.api() as api:
        for bad in (
            "limit=0",
            "limit=501",
            "after=0",
            "after=x",
            "since=yesterday",
            "action=a%00b",
            "target_type=" + "x" * 65,
        ):
            assert (await api.get(f"/customer/audit?{bad}")).status_code == 422, bad
        r = await api.get("/customer/audit", params={"since": "0001-01-01T00:00:00+23:00"})
        assert r.status_code == 400, r.text  # before the first time PostgreSQL holds


async def test_audit_is_isolated_between_tenants(services: Services, tenant: Tenant) -> None:
    devs = await tenant.create_devices(1, prefix="ai")
    async with tenant.api() as api:
        await _ok(await api.post(f"/customer/devices/{devs[0]}/revoke"))
    other = await make_tenant(services)
    assert await _entries(other) == []
    assert await _entries(other, f"?target_id={devs[0]}") == []
    assert len(await _entries(tenant)) == 1


async def test_record_from_the_cli_and_append_only(
    services: Services, tenant: Tenant, app_pool: asyncpg.Pool
) -> None:
    async with tenant_tx(app_pool, tenant.tenant_id) as conn:
        await audit.record(conn, audit.CLI, "device.revoked", "device", "d-1", {"why": "test"})
    [entry] = await _entries(tenant)
    assert (entry["actor"], entry["actor_user_id"], entry["details"]) == ("cli", None, {"why": "test"})
    conn = await connect(services.db.app_url)
    try:
        for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(
                asyncpg.InsufficientPrivilegeError, match="permission denied for table audit_log"
            ):
                async with conn.transaction():
                    await conn.execute(SET_TENANT, tenant.tenant_id)
                    await conn.execute(sql)
    finally:
        await conn.close()
    assert len(await _entries(tenant)) == 1


async def test_artifact_uploads_and_deletes_are_recorded_and_a_refused_one_is_not(tenant: Tenant) -> None:
    async with tenant.api() as api:
        await _ok(await api.post("/customer/artifacts?name=fw.bin", content=b"image"), 201)
        assert (await api.post("/customer/artifacts?name=fw.bin", content=b"again")).status_code == 409
        r = await api.delete("/customer/artifacts/fw.bin")
        assert r.status_code == 204, r.text
    entries = await _entries(tenant, "?target_type=artifact")
    assert _brief(entries) == [
        ("artifact.uploaded", "artifact", "fw.bin"),
        ("artifact.deleted", "artifact", "fw.bin"),
    ]
    assert entries[1]["details"] == {"content_type": "application/octet-stream"}

"""Job templates over HTTP (AWS job templates): create, list (keyset pages), read, delete; jobs made from a
template with `template_id` and `document_parameters` (every placeholder filled, unknown ones refused);
bad input refused with nothing stored; another tenant sees none of them and cannot use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Services, Tenant, make_tenant

T0 = datetime(2035, 3, 1, tzinfo=UTC)
FW = {
    "template_id": "fw-update",
    "description": "firmware update",
    "document_type": "firmware",
    "document": {
        "url": "https://fw.example/${aws:iot:parameter:version}/image.bin",
        "steps": [{"flash": "${aws:iot:parameter:slot}"}, "reboot"],
        "retries": 3,
    },
    "expires_in_hours": 2,
    "in_progress_timeout_minutes": 30,
    "configs": {"retry_config": {"criteria_list": [{"failure_type": "FAILED", "number_of_retries": 1}]}},
}


async def _templates(tenant: Tenant, query: str = "") -> dict[str, Any]:
    async with tenant.api() as api:
        r = await api.get(f"/customer/job-templates{query}")
        assert r.status_code == 200, r.text
        return dict(r.json())


async def _job_ids(tenant: Tenant) -> list[str]:
    async with tenant.api() as api:
        return [j["job_id"] for j in (await api.get("/customer/jobs?limit=500")).json()["jobs"]]


async def test_create_read_list_delete(clock: Services, tenant: Tenant) -> None:
    clock.set_clock(T0)
    async with tenant.api() as api:
        r = await api.post("/customer/job-templates", json=FW)
        assert r.status_code == 201, r.text
        made = r.json()
        assert made == {
            **FW,
            "parameters": ["slot", "version"],
            "created_by": f"admin@{tenant.tenant_id}.test",
            "created_at": made["created_at"],
        }
        assert datetime.fromisoformat(made["created_at"].replace("Z", "+00:00")) == T0
        assert (await api.get("/customer/job-templates/fw-update")).json() == made
        again = await api.post("/customer/job-templates", json={**FW, "description": "other"})
        assert again.status_code == 409, again.text
        for i in range(3):
            body = {"template_id": f"t{i}", "document_type": "reboot"}
            assert (await api.post("/customer/job-templates", json=body)).status_code == 201
    first = await _templates(tenant, "?limit=2")
    assert [t["template_id"] for t in first["templates"]] == ["fw-update", "t0"]
    assert first["next_after"] == "t0"
    rest = await _templates(tenant, "?limit=2&after=t0")
    assert [t["template_id"] for t in rest["templates"]] == ["t1", "t2"]
    assert rest["next_after"] is None
    minimal = rest["templates"][0]
    assert (minimal["document"], minimal["parameters"], minimal["configs"]) == ({}, [], {})
    assert (minimal["expires_in_hours"], minimal["in_progress_timeout_minutes"], minimal["description"]) == (
        None,
        None,
        "",
    )
    async with tenant.api() as api:
        r = await api.delete("/customer/job-templates/t1")
        assert r.status_code == 200 and r.json()["template_id"] == "t1", r.text
        assert (await api.delete("/customer/job-templates/t1")).status_code == 404
        assert (await api.get("/customer/job-templates/t1")).status_code == 404
    assert [t["template_id"] for t in (await _templates(tenant))["templates"]] == ["fw-update", "t0", "t2"]


async def test_bad_templates_are_refused_and_nothing_is_stored(tenant: Tenant) -> None:
    bad: list[Any] = [
        {**FW, "template_id": "has space"},
        {**FW, "template_id": "x" * 65},
        {**FW, "document_type": ""},
        {**FW, "document": ["not", "an", "object"]},
        {**FW, "document": {"big": "x" * 40_000}},
        {**FW, "expires_in_hours": 0},
        {**FW, "in_progress_timeout_minutes": 0},
        {**FW, "in_progress_timeout_minutes": "30"},
        {**FW, "configs": "rollout"},
        {**FW, "description": "x" * 2001},
        {**FW, "extra": 1},
        {k: v for k, v in FW.items() if k != "document_type"},
        {**FW, "document": {"nul": "a\u0000b"}},
    ]
    async with tenant.api() as api:
        for body in bad:
            r = await api.post("/customer/job-templates", json=body)
            assert r.status_code in (400, 413, 422), (body, r.text)
        assert (await api.get("/customer/job-templates?limit=0")).status_code == 422
        assert (await api.get("/customer/job-templates?after=a%20b")).status_code == 422
        assert (await api.get("/customer/job-templates/ghost")).status_code == 404
    assert (await _templates(tenant))["templates"] == []


async def test_a_job_from_a_template(clock: Services, tenant: Tenant) -> None:
    devs = await tenant.create_devices(2, prefix="tj")
    async with tenant.api() as api:
        assert (await api.post("/customer/job-templates", json=FW)).status_code == 201
        clock.set_clock(T0)
        r = await api.post(
            "/customer/jobs",
            json={
                "job_id": "from-tpl",
                "template_id": "fw-update",
                "document_parameters": {"version": "2.0.1", "slot": "B"},
                "target_device_id": devs[0],
            },
        )
        assert r.status_code == 201, r.text
        job = r.json()
        assert job["template_id"] == "fw-update" and job["document_type"] == "firmware"
        assert job["document_params"] == {
            "url": "https://fw.example/2.0.1/image.bin",
            "steps": [{"flash": "B"}, "reboot"],
            "retries": 3,
        }
        assert job["in_progress_timeout_minutes"] == 30
        assert datetime.fromisoformat(job["expires_at"].replace("Z", "+00:00")) == T0 + timedelta(hours=2)
        assert (await api.get("/customer/jobs/from-tpl")).json()["template_id"] == "fw-update"
        # the request's own fields override the template's defaults
        r = await api.post(
            "/customer/jobs",
            json={
                "job_id": "overridden",
                "template_id": "fw-update",
                "document_parameters": {"version": "3", "slot": "A"},
                "document_type": "firmware-beta",
                "in_progress_timeout_minutes": 5,
                "expires_in_hours": 1,
                "target_device_id": devs[1],
            },
        )
        assert r.status_code == 201, r.text
        assert (r.json()["document_type"], r.json()["in_progress_timeout_minutes"]) == ("firmware-beta", 5)
        assert datetime.fromisoformat(r.json()["expires_at"].replace("Z", "+00:00")) == T0 + timedelta(
            hours=1
        )
        # a job without a template has none
        r = await api.post("/customer/jobs", json={"document_type": "x", "target_device_id": devs[1]})
        assert r.status_code == 201 and r.json()["template_id"] is None, r.text
        # the device receives the filled document
    async with tenant.device_api(devs[0]) as d:
        [pending] = (await d.get("/device/v1/jobs/pending")).json()["jobs"]
        assert pending["document"]["params"]["url"] == "https://fw.example/2.0.1/image.bin"
    # deleting the template leaves its jobs as they are
    async with tenant.api() as api:
        assert (await api.delete("/customer/job-templates/fw-update")).status_code == 200
        assert (await api.get("/customer/jobs/from-tpl")).json()["template_id"] == "fw-update"


async def test_placeholder_and_parameter_errors(tenant: Tenant) -> None:
    devs = await tenant.create_devices(1, prefix="tp")
    target = {"target_device_id": devs[0]}
    async with tenant.api() as api:
        assert (await api.post("/customer/job-templates", json=FW)).status_code == 201
        before = await _job_ids(tenant)

        async def refused(body: dict[str, Any], status: int = 400) -> dict[str, Any]:
            r = await api.post("/customer/jobs", json={**target, **body})
            assert r.status_code == status, (body, r.text)
            return dict(r.json())

        r = await refused({"template_id": "fw-update"})
        assert r["missing"] == ["slot", "version"] and "slot, version" in r["detail"]
        r = await refused({"template_id": "fw-update", "document_parameters": {"version": "1"}})
        assert r["missing"] == ["slot"]
        r = await refused(
            {
                "template_id": "fw-update",
                "document_parameters": {"version": "1", "slot": "A", "colour": "red"},
            }
        )
        assert r["unknown"] == ["colour"] and "colour" in r["detail"]
        await refused({"document_type": "x", "document_parameters": {"version": "1"}})
        await refused({"template_id": "fw-update", "document_params": {"a": 1},
                       "document_parameters": {"version": "1", "slot": "A"}})  # fmt: skip
        await refused({}, 422)  # neither a document_type nor a template
        await refused({"template_id": "ghost", "document_parameters": {}}, 404)
        # values are strings, names as AWS's
        await refused({"template_id": "fw-update", "document_parameters": {"version": 1, "slot": "A"}}, 422)
        await refused(
            {"template_id": "fw-update", "document_parameters": {"ver sion": "1", "slot": "A"}}, 422
        )
        await refused({"template_id": "fw-update", "document_parameters": {"version": "", "slot": "A"}}, 422)
        await refused({"template_id": "fw-update", "document_parameters": {"version": "x" * 513}}, 422)
        await refused({"template_id": "bad id", "document_parameters": {}}, 422)
    assert await _job_ids(tenant) == before


async def test_templates_are_isolated_between_tenants(services: Services, tenant: Tenant) -> None:
    other = await make_tenant(services)
    devs = await other.create_devices(1, prefix="ti")
    async with tenant.api() as api:
        assert (await api.post("/customer/job-templates", json=FW)).status_code == 201
    async with other.api() as api:
        assert (await api.get("/customer/job-templates")).json()["templates"] == []
        assert (await api.get("/customer/job-templates/fw-update")).status_code == 404
        assert (await api.delete("/customer/job-templates/fw-update")).status_code == 404
        r = await api.post(
            "/customer/jobs",
            json={"template_id": "fw-update", "document_parameters": {"version": "1", "slot": "A"},
                  "target_device_id": devs[0]},
        )  # fmt: skip
        assert r.status_code == 404, r.text
        # the same id is free in another tenant
        assert (
            await api.post("/customer/job-templates", json={**FW, "description": "theirs"})
        ).status_code == 201
    async with tenant.api() as api:
        assert (await api.get("/customer/job-templates/fw-update")).json()["description"] == "firmware update"


async def test_a_viewer_reads_templates_but_cannot_write(services: Services, tenant: Tenant) -> None:
    async with tenant.api() as api:
        assert (await api.post("/customer/job-templates", json=FW)).status_code == 201
    viewer = await make_tenant(services, role="viewer", tenant_id=tenant.tenant_id)
    async with viewer.api() as api:
        assert (await api.get("/customer/job-templates/fw-update")).status_code == 200
        assert (await api.post("/customer/job-templates", json={**FW, "template_id": "v"})).status_code == 403
        assert (await api.delete("/customer/job-templates/fw-update")).status_code == 403
    assert len((await _templates(tenant))["templates"]) == 1

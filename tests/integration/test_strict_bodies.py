"""JSON bodies take numbers and flags only as the types the OpenAPI spec gives: `false` is not version 0,
`1` is not true. Each refusal is a 422 and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant


@pytest.mark.parametrize("version", [False, True, "0", 0.5])
async def test_twin_patch_takes_only_an_integer_expected_version(tenant: Tenant, version: Any) -> None:
    [dev] = await tenant.create_devices(1, prefix="strict")
    async with tenant.api() as api:
        r = await api.patch(
            f"/customer/devices/{dev}/twin", json={"desired": {"a": 1}, "expected_version": version}
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "expected_version"]
        twin = (await api.get(f"/customer/devices/{dev}/twin")).json()
        assert twin["desired"] == {} and twin["desired_version"] == 0
        r = await api.patch(
            f"/customer/devices/{dev}/twin", json={"desired": {"a": 1}, "expected_version": 0}
        )
        assert r.status_code == 200, r.text


async def test_device_bodies_are_strict(tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="strictd")
    async with tenant.device_api(dev) as device:
        r = await device.post("/device/v1/shadow/reported", json={"reported": {"a": 1}, "version": False})
        assert r.status_code == 422, r.text
        assert (await device.get("/device/v1/shadow")).json()["reported_version"] == 0
        r = await device.put(
            "/device/v1/jobs/j-1/execution", json={"status": "SUCCEEDED", "expected_execution_number": True}
        )
        assert r.status_code == 422, r.text  # the hot path (LeanRoute) validates the raw bytes alike
        r = await device.put(
            "/device/v1/jobs/j-1/execution", json={"status": "SUCCEEDED", "expected_execution_number": 2**63}
        )
        assert r.status_code == 422, r.text  # past the spec's maximum: refused as input, not by the database


async def test_job_flags_and_numbers_are_strict(tenant: Tenant) -> None:
    await tenant.create_devices(1, prefix="strictj")
    async with tenant.api() as api:
        for bad in (
            {"target_all": 1},
            {"target_all": "true"},
            {"target_all": True, "in_progress_timeout_minutes": True},
        ):
            r = await api.post("/customer/jobs", json={"document_type": "t", **bad})
            assert r.status_code == 422, (bad, r.text)
        assert (await api.get("/customer/jobs")).json()["total"] == 0

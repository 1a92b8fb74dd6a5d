"""GET /customer/dashboard over real HTTP on a real database: exact counts of a known fleet at an injected
time, the online window and the failure window moving with the clock, and tenants seeing only their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import Services, Tenant

T0 = datetime(2031, 6, 7, 8, 0, 0, tzinfo=UTC)


async def _dashboard(t: Tenant) -> dict[str, Any]:
    async with t.api() as api:
        r = await api.get("/customer/dashboard")
        assert r.status_code == 200, r.text
        return dict(r.json())


async def _job(t: Tenant, **body: Any) -> str:
    async with t.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "reboot", **body})
        assert r.status_code == 201, r.text
        return str(r.json()["job_id"])


async def _put(t: Tenant, dev: str, job_id: str, status: str, **details: Any) -> None:
    body: dict[str, Any] = {"status": status}
    if details:
        body["status_details"] = details
    async with t.device_api(dev) as d:
        r = await d.put(f"/device/v1/jobs/{job_id}/execution", json=body)
        assert r.status_code == 200, r.text


async def _seen(t: Tenant, dev: str) -> None:
    async with t.device_api(dev) as d:
        assert (await d.get("/device/v1/shadow")).status_code == 200  # stamps last_seen_at


def _empty(dashboard: dict[str, Any]) -> None:
    assert dashboard["devices"] == {
        "total": 0,
        "active": 0,
        "revoked": 0,
        "online": 0,
        "offline": 0,
        "online_window_seconds": 300,
    }
    assert set(dashboard["jobs"]["by_status"].values()) == {0}
    assert dashboard["jobs"]["active"] == [] and dashboard["jobs"]["active_total"] == 0
    assert dashboard["failures"]["total"] == 0
    assert dashboard["failures"]["by_job"] == dashboard["failures"]["by_reason"] == []


async def test_dashboard_counts_a_known_fleet_exactly(
    clock: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    clock.set_clock(T0 - timedelta(hours=2))
    d0, d1, d2, d3, d4 = await tenant.create_devices(5, prefix="dash")
    old = await _job(tenant, target_device_id=d3)
    await _put(tenant, d3, old, "IN_PROGRESS")
    await _put(tenant, d3, old, "FAILED", error="old failure")  # two hours ago: outside the window

    clock.set_clock(T0)
    async with tenant.api() as api:
        assert (await api.post(f"/customer/devices/{d4}/revoke")).status_code == 200
    for dev in (d0, d1, d2):
        await _seen(tenant, dev)
    fleet = await _job(tenant, target_all=True)  # the 4 ACTIVE devices
    await _put(tenant, d0, fleet, "IN_PROGRESS")
    await _put(tenant, d0, fleet, "SUCCEEDED")
    await _put(tenant, d1, fleet, "IN_PROGRESS")
    await _put(tenant, d1, fleet, "FAILED", reason="disk full")
    await _put(tenant, d2, fleet, "REJECTED")

    clock.set_clock(T0 + timedelta(minutes=1))
    dash = await _dashboard(tenant)
    assert datetime.fromisoformat(dash["at"]) == T0 + timedelta(minutes=1)
    assert dash["devices"] == {
        "total": 5,
        "active": 4,
        "revoked": 1,
        "online": 3,
        "offline": 1,
        "online_window_seconds": 300,
    }
    assert dash["jobs"]["by_status"] == {"SCHEDULED": 0, "IN_PROGRESS": 1, "COMPLETED": 1, "CANCELED": 0}
    assert dash["jobs"]["active_total"] == 1
    [active] = dash["jobs"]["active"]
    assert active["job_id"] == fleet and active["status"] == "IN_PROGRESS"
    assert active["execution_count"] == 4 and active["progress"] == 0.75
    assert {k: v for k, v in active["counts"].items() if v} == {
        "queued": 1,
        "succeeded": 1,
        "failed": 1,
        "rejected": 1,
    }
    failures = dash["failures"]
    assert datetime.fromisoformat(failures["since"]) == T0 + timedelta(minutes=1) - timedelta(hours=1)
    assert failures["total"] == 2
    assert failures["by_job"] == [{"job_id": fleet, "failures": 2}]
    assert failures["by_reason"] == [
        {"status": "FAILED", "reason": "disk full", "failures": 1},
        {"status": "REJECTED", "reason": None, "failures": 1},
    ]

    # the other tenant sees none of it
    _empty(await _dashboard(other_tenant))
    [mine] = await other_tenant.create_devices(1, prefix="other")
    await _seen(other_tenant, mine)
    theirs = await _dashboard(other_tenant)
    assert (theirs["devices"]["total"], theirs["devices"]["online"]) == (1, 1)
    assert theirs["jobs"]["active"] == [] and theirs["failures"]["total"] == 0

    # later: the online window and the failure window have passed
    clock.set_clock(T0 + timedelta(minutes=61))
    later = await _dashboard(tenant)
    assert (later["devices"]["online"], later["devices"]["offline"]) == (0, 4)
    assert later["failures"]["total"] == 0 and later["failures"]["by_job"] == []
    # the window is inclusive of its end and exclusive of its start: at T0 + 60 min the failures at T0 are out
    clock.set_clock(T0 + timedelta(minutes=60))
    assert (await _dashboard(tenant))["failures"]["total"] == 0
    clock.set_clock(T0 + timedelta(minutes=59))
    assert (await _dashboard(tenant))["failures"]["total"] == 2
    # before the failures happened, they are not counted either (the clock bounds the window's end)
    clock.set_clock(T0 - timedelta(minutes=1))
    assert (await _dashboard(tenant))["failures"]["total"] == 0


async def test_dashboard_of_a_new_tenant_is_empty(tenant: Tenant) -> None:
    _empty(await _dashboard(tenant))


async def test_dashboard_needs_a_token(services: Services) -> None:
    async with httpx.AsyncClient(base_url=services.ui.url) as api:
        r = await api.get("/customer/dashboard")
    assert r.status_code == 401, r.text

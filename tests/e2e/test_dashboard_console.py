"""The dashboard in Debian's Chromium against the real `iotcloud up --demo`: the home page after sign-in shows
the demo fleet's numbers (checked against the devices list) and follows a job's progress as devices play it
over the device API, with its failure counted by job and by reason."""

from __future__ import annotations

import uuid

import httpx
from playwright.async_api import Page, expect

from tests.e2e.conftest import Console, Stack, shot
from tests.e2e.test_console import device_client, log_in

LAB = [f"demo-device-{i:02d}" for i in range(1, 9)]  # the demo group "lab"


async def admin_api(stack: Stack) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=stack.ui, timeout=10) as anon:
        r = await anon.post("/auth/token", data={"username": "admin@demo.local", "password": "demo-admin"})
        assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    return httpx.AsyncClient(base_url=stack.ui, headers={"Authorization": f"Bearer {token}"}, timeout=10)


async def test_dashboard_shows_the_fleet_and_a_jobs_progress(
    console_page: tuple[Page, Console], stack: Stack
) -> None:
    page, console = console_page
    job_id = f"dash-{uuid.uuid4().hex[:8]}"
    reason = f"flash write failed {job_id}"
    async with await admin_api(stack) as api:
        r = await api.post(
            "/customer/jobs",
            json={"job_id": job_id, "document_type": "firmware_update", "target_group_id": "lab"},
        )
        assert r.status_code == 201, r.text
    # three lab devices play it: two succeed, one fails (each call also marks the device online)
    for device_id, outcome, details in (
        (LAB[0], "SUCCEEDED", None),
        (LAB[1], "SUCCEEDED", None),
        (LAB[2], "FAILED", {"reason": reason}),
    ):
        async with device_client(stack, device_id) as device:
            for status in ("IN_PROGRESS", outcome):
                body = {
                    "status": status,
                    **({"status_details": details} if details and status == outcome else {}),
                }
                r = await device.put(f"/device/v1/jobs/{job_id}/execution", json=body)
                assert r.status_code == 200, r.text
    async with await admin_api(stack) as api:
        fleet = (await api.get("/customer/devices", params={"limit": 200})).json()
    online = sum(1 for d in fleet["devices"] if d["online"])
    assert fleet["total"] >= 20 and online >= 3  # the demo's 20, and at least the three that just called

    await log_in(page)
    await expect(page).to_have_url(f"{stack.ui}/dashboard")
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    await expect(page.get_by_test_id("stat-devices")).to_have_text(str(fleet["total"]))
    await expect(page.get_by_test_id("stat-online")).to_have_text(str(online))
    revoked = sum(1 for d in fleet["devices"] if d["status"] == "REVOKED")
    await expect(page.get_by_test_id("stat-offline")).to_have_text(str(fleet["total"] - revoked - online))

    row = page.get_by_role("table", name="active jobs").locator(f'tr[data-job-id="{job_id}"]')
    await expect(row).to_contain_text("IN_PROGRESS")
    await expect(row).to_contain_text("3/8 done")
    await expect(row.get_by_role("progressbar", name=f"progress of {job_id}")).to_have_attribute(
        "aria-valuenow", "37"
    )
    by_job = page.get_by_role("table", name="failures by job")
    await expect(by_job.get_by_role("row").filter(has_text=job_id)).to_have_text(f"{job_id}1")
    by_reason = page.get_by_role("table", name="failures by reason")
    await expect(by_reason.get_by_role("row").filter(has_text=reason)).to_have_text(f"failed: {reason}1")
    await expect(page.get_by_role("img", name="failures by job")).to_be_visible()
    await expect(page.locator(".recharts-wrapper").first).to_be_visible()  # the charts drew
    await shot(page, "dashboard-01")

    # a fourth device finishes while we watch: the page follows (polling, or the live stream)
    async with device_client(stack, LAB[3]) as device:
        r = await device.put(f"/device/v1/jobs/{job_id}/execution", json={"status": "REJECTED"})
        assert r.status_code == 200, r.text
    await page.reload()
    await expect(row).to_contain_text("4/8 done")
    await expect(row.get_by_role("progressbar", name=f"progress of {job_id}")).to_have_attribute(
        "aria-valuenow", "50"
    )
    await expect(by_job.get_by_role("row").filter(has_text=job_id)).to_have_text(f"{job_id}2")
    await row.get_by_role("link", name=job_id).click()
    await expect(page.get_by_test_id("job-title")).to_contain_text("IN_PROGRESS")
    assert console.errors == []

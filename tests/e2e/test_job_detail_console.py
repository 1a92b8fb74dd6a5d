"""The job page in Chromium against the real `iotcloud up --demo`: a job whose devices fail for different
reasons (played over the device API) shows its executions by status over time as a chart and its failures
grouped by reason, each with a device to look at."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.e2e.conftest import Console, Stack, shot
from tests.e2e.test_console import device_client, log_in

# Devices no other browser test uses (the demo has 20).
DEVICES = [f"demo-device-{n}" for n in range(14, 20)]
JOB = "e2e-failing-fw"


async def _operator(stack: Stack) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=stack.ui, timeout=10) as anon:
        r = await anon.post("/auth/token", data={"username": "admin@demo.local", "password": "demo-admin"})
        r.raise_for_status()
    token = r.json()["access_token"]
    return httpx.AsyncClient(base_url=stack.ui, headers={"Authorization": f"Bearer {token}"}, timeout=10)


async def _play(stack: Stack, device: str, status: str, details: dict[str, str] | None) -> None:
    async with device_client(stack, device) as d:
        claimed = await d.put(f"/device/v1/jobs/{JOB}/execution", json={"status": "IN_PROGRESS"})
        assert claimed.status_code == 200, claimed.text
        done = await d.put(
            f"/device/v1/jobs/{JOB}/execution", json={"status": status, "status_details": details}
        )
        assert done.status_code == 200, done.text


async def test_job_page_charts_statuses_and_groups_failures(
    console_page: tuple[Page, Console], stack: Stack
) -> None:
    page, console = console_page
    async with await _operator(stack) as api:
        r = await api.post("/customer/groups", json={"group_id": "e2e-failing", "name": "E2E failing"})
        assert r.status_code == 201, r.text
        r = await api.post("/customer/groups/e2e-failing/members", json={"device_ids": DEVICES})
        assert r.status_code == 200, r.text
        r = await api.post(
            "/customer/jobs",
            json={"job_id": JOB, "document_type": "firmware_update", "target_group_id": "e2e-failing"},
        )
        assert r.status_code == 201, r.text
    # Three fail for lack of space, one on a bad checksum, one succeeds; the sixth never starts.
    for device in DEVICES[:3]:
        await _play(stack, device, "FAILED", {"reason": "disk_full"})
    await _play(stack, DEVICES[3], "FAILED", {"reason": "checksum_mismatch"})
    await _play(stack, DEVICES[4], "SUCCEEDED", None)

    await log_in(page)
    await page.goto(f"/jobs/{JOB}")
    await expect(page.get_by_test_id("job-title")).to_contain_text("IN_PROGRESS")

    chart = page.get_by_test_id("status-chart")
    await expect(chart).to_be_visible()
    await expect(chart.locator("svg.recharts-surface").first).to_be_visible()
    # One stacked area per status that occurs: succeeded, failed, queued (and in progress, in between).
    await expect(chart.locator(".recharts-area-area").first).to_be_visible()
    assert await chart.locator(".recharts-area-area").count() >= 3
    await expect(page.get_by_test_id("status-chart-summary")).to_have_text(
        "Now: 1 succeeded, 4 failed, 1 queued."
    )
    failed_fill = chart.locator('.recharts-area-area[fill="var(--mantine-color-red-6)"]')
    await expect(failed_fill).to_have_count(1)

    reasons = page.get_by_role("table", name="failure reasons")
    rows = reasons.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_have_attribute("data-reason", "disk_full")
    await expect(rows.nth(0).get_by_test_id("reason-count")).to_have_text("3")
    await expect(rows.nth(0).get_by_role("link", name=DEVICES[0])).to_be_visible()
    await expect(rows.nth(1)).to_have_attribute("data-reason", "checksum_mismatch")
    await expect(rows.nth(1).get_by_test_id("reason-count")).to_have_text("1")
    await page.get_by_test_id("status-series-card").scroll_into_view_if_needed()
    await shot(page, "40-job-detail-insights")

    # The sample device's link leads to that device's page.
    await rows.nth(1).get_by_role("link", name=DEVICES[3]).click()
    await expect(page.get_by_role("heading", name=f"Device {DEVICES[3]}")).to_be_visible()
    assert console.errors == []

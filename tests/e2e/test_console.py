"""The web console in Debian's Chromium against the real `iotcloud up --demo`: the issue's operator
flow end to end, a device played over the device API, a screenshot of each screen."""

from __future__ import annotations

import json
import re

import httpx
from playwright.async_api import Page, expect

from tests.e2e.conftest import Console, Stack, shot

DEVICE = "demo-device-01"  # a member of the demo group "lab" (8 devices)


def job_id_from(page: Page) -> str:
    match = re.search(r"/jobs/([^/?#]+)$", page.url)
    assert match, page.url
    return match.group(1)


def device_client(stack: Stack, device_id: str) -> httpx.AsyncClient:
    tokens = json.loads((stack.home / "demo-tokens.json").read_text())
    return httpx.AsyncClient(
        base_url=stack.device, headers={"X-Provision-Token": tokens[device_id]}, timeout=10
    )


async def log_in(page: Page) -> None:
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await shot(page, "01-login")
    await page.get_by_label("E-mail").fill("admin@demo.local")
    await page.get_by_label("Password", exact=True).fill("demo-admin")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("navigation", name="main")).to_be_visible()
    await expect(page.get_by_test_id("who")).to_have_text("admin@demo.local")


async def nav(page: Page, name: str) -> None:
    await page.get_by_role("navigation", name="main").get_by_role("link", name=name).click()


async def test_operator_runs_jobs_from_the_browser(console_page: tuple[Page, Console], stack: Stack) -> None:
    page, console = console_page
    await log_in(page)
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()  # the home page
    await nav(page, "Jobs")
    await expect(page.get_by_text("No jobs yet.")).to_be_visible()
    await shot(page, "02-jobs-empty")

    # Devices → a device → Create job, with the device preselected.
    await nav(page, "Devices")
    devices = page.get_by_role("table", name="devices")
    await expect(devices.locator("tbody tr")).to_have_count(20)
    await shot(page, "03-devices")
    await devices.get_by_role("link", name=DEVICE).click()
    await expect(page.get_by_role("heading", name=f"Device {DEVICE}")).to_be_visible()
    await expect(page.get_by_text("No jobs for this device.")).to_be_visible()
    await expect(page.get_by_role("group", name="desired state")).to_be_visible()
    await expect(page.get_by_text(f"demo:{DEVICE}", exact=True)).to_be_visible()  # its MQTT thing name
    await expect(page.get_by_text(f"127.0.0.1:{stack.mqtt_port}", exact=True)).to_be_visible()
    await shot(page, "04-device-detail")

    await page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    await expect(dialog.get_by_test_id("device-picker")).to_have_value(re.compile(f"^{DEVICE}"))
    await expect(dialog.get_by_test_id("job-reach")).to_have_text("This job will reach 1 device.")
    await dialog.get_by_role("combobox", name="Document type").fill("reboot")
    await dialog.get_by_label("Expires in (hours)").click()
    await expect(dialog.get_by_label("Parameters (JSON)")).to_have_value('{\n  "delay_s": 5\n}')
    await dialog.get_by_label("Parameters (JSON)").fill('{"delay_s": ')
    await expect(dialog.get_by_text(re.compile("^not valid JSON"))).to_be_visible()
    await expect(dialog.get_by_role("button", name="Create job")).to_be_disabled()
    await dialog.get_by_label("Parameters (JSON)").fill('{"delay_s": 5}')
    await dialog.get_by_label("Expires in (hours)").fill("1")
    await shot(page, "05-create-job-modal")
    await dialog.get_by_role("button", name="Create job").click()

    # Job detail: queued; the device claims it and the page follows without a reload.
    await expect(page).to_have_url(re.compile(r"/jobs/[^/]+$"))
    job_id = job_id_from(page)
    await expect(page.get_by_test_id("job-title")).to_contain_text("IN_PROGRESS")
    await expect(page.get_by_test_id("execution-count")).to_have_text("1")
    row = page.get_by_role("table", name="executions").locator(f'tr[data-device-id="{DEVICE}"]')
    await expect(row).to_contain_text("QUEUED")

    async with device_client(stack, DEVICE) as device:
        r = await device.get("/device/v1/jobs/pending")
        assert r.status_code == 200, r.text
        assert job_id in json.dumps(r.json())
        r = await device.put(f"/device/v1/jobs/{job_id}/execution", json={"status": "IN_PROGRESS"})
        assert r.status_code == 200, r.text
        await expect(row).to_contain_text("IN_PROGRESS")
        await shot(page, "06-job-detail-in-progress")

        # The Jobs list refreshes itself: COMPLETED shows up while we watch it.
        await nav(page, "Jobs")
        listed = page.get_by_role("table", name="jobs").locator(f'tr[data-job-id="{job_id}"]')
        await expect(listed).to_contain_text("IN_PROGRESS")
        await expect(listed).to_contain_text(f"device {DEVICE}")
        r = await device.put(
            f"/device/v1/jobs/{job_id}/execution",
            json={"status": "SUCCEEDED", "status_details": {"message": "reboot scheduled"}},
        )
        assert r.status_code == 200, r.text
    await expect(listed).to_contain_text("COMPLETED")
    await expect(listed.get_by_role("progressbar", name=f"progress of {job_id}")).to_have_attribute(
        "aria-valuenow", "100"
    )
    await shot(page, "07-jobs-list")

    await listed.get_by_role("link", name=job_id).click()
    await expect(page.get_by_test_id("job-title")).to_contain_text("COMPLETED")
    await expect(row).to_contain_text("SUCCEEDED")
    await expect(row).to_contain_text("reboot scheduled")
    await expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    await shot(page, "08-job-detail-completed")
    await row.get_by_role("button", name="History").click()
    history = page.get_by_role("dialog", name=f"History of {DEVICE}")
    await expect(history.get_by_test_id("history-event")).to_have_count(2)
    await expect(history.get_by_test_id("history-event").nth(0)).to_contain_text("QUEUED → IN_PROGRESS")
    await expect(history.get_by_test_id("history-event").nth(1)).to_contain_text("IN_PROGRESS → SUCCEEDED")
    await shot(page, "09-execution-history")
    await history.get_by_role("button").first.click()  # the modal's close button
    await expect(history).to_have_count(0)

    # A second job, to the lab group, canceled: its queued executions become REJECTED.
    await nav(page, "Jobs")
    await page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    await dialog.get_by_text("A group", exact=True).click()
    await dialog.get_by_test_id("group-picker").click()
    await dialog.get_by_test_id("group-picker").fill("lab")
    await page.get_by_role("option", name="Lab bench (8 devices)").click()
    await expect(dialog.get_by_test_id("job-reach")).to_have_text("This job will reach 8 devices.")
    await dialog.get_by_role("combobox", name="Document type").fill("update_config")
    await dialog.get_by_label("Job ID (optional)").click()
    await dialog.get_by_label("Job ID (optional)").fill("lab-config")
    await dialog.get_by_role("button", name="Create job").click()
    await expect(page).to_have_url(re.compile(r"/jobs/lab-config$"))
    await expect(page.get_by_test_id("execution-count")).to_have_text("8")

    await page.get_by_role("button", name="Cancel job").click()
    confirm = page.get_by_role("dialog", name="Cancel job lab-config?")
    await expect(confirm).to_contain_text("8 QUEUED executions become REJECTED now")
    await expect(confirm).to_contain_text("0 IN_PROGRESS executions keep running")
    await confirm.get_by_label("Reason (optional)").fill("wrong config")
    await shot(page, "10-cancel-confirmation")
    await confirm.get_by_role("button", name="Cancel job now").click()
    await expect(page.get_by_test_id("job-title")).to_contain_text("CANCELED")
    await expect(page.get_by_test_id("cancel-reason")).to_contain_text("wrong config")
    await expect(page.locator('[data-count="rejected"]')).to_contain_text("8")
    executions = page.get_by_role("table", name="executions")
    await expect(executions.locator("tbody tr")).to_have_count(8)
    await expect(executions.get_by_text("REJECTED", exact=True)).to_have_count(8)
    await expect(executions.get_by_text(re.compile("job_canceled"))).to_have_count(8)
    await page.get_by_role("combobox", name="Execution status").click()
    await page.get_by_role("option", name="QUEUED").click()
    await expect(page.get_by_text("No QUEUED executions.")).to_be_visible()
    await shot(page, "11-job-detail-canceled")
    async with device_client(stack, DEVICE) as device:
        r = await device.get("/device/v1/jobs/pending")
        assert "lab-config" not in r.text

    await nav(page, "Jobs")
    canceled = page.get_by_role("table", name="jobs").locator('tr[data-job-id="lab-config"]')
    await expect(canceled).to_contain_text("CANCELED")
    await expect(canceled).to_contain_text("group lab")
    assert console.errors == [], console.errors


async def test_operator_rolls_out_at_a_rate(console_page: tuple[Page, Console], stack: Stack) -> None:
    """A rollout of 2 devices a minute to the lab group: the detail shows what it has reached so far."""
    page, console = console_page
    await log_in(page)
    await nav(page, "Jobs")
    await page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    await dialog.get_by_text("A group", exact=True).click()
    await dialog.get_by_test_id("group-picker").click()
    await dialog.get_by_test_id("group-picker").fill("lab")
    await page.get_by_role("option", name="Lab bench (8 devices)").click()
    await dialog.get_by_role("combobox", name="Document type").fill("firmware_update")
    await dialog.get_by_label("Job ID (optional)").click()
    await dialog.get_by_label("Job ID (optional)").fill("lab-rollout")
    await dialog.get_by_role("button", name="Rollout section").click()
    await dialog.get_by_label("Maximum per minute").fill("2")
    await expect(dialog.get_by_test_id("rollout-summary")).to_have_text("Reaches 2 devices a minute.")
    await shot(page, "16-create-job-rollout")
    await dialog.get_by_role("button", name="Create job").click()

    await expect(page).to_have_url(re.compile(r"/jobs/lab-rollout$"))
    reached = page.get_by_test_id("rollout-reached")
    await expect(reached).to_have_text(re.compile(r"^[02] / 8 reached$"))
    await expect(page.get_by_test_id("rollout-rate")).to_have_text("2 a minute")
    # The worker's rollout tick (every 5 s) reaches this minute's 2 devices; the page follows.
    await expect(reached).to_have_text("2 / 8 reached")
    await expect(page.get_by_role("img", name="devices reached over time")).to_be_visible()
    await shot(page, "17-job-detail-rollout")
    assert console.errors == [], console.errors


async def test_devices_groups_twin_and_logout(console_page: tuple[Page, Console], stack: Stack) -> None:
    page, console = console_page
    await log_in(page)

    # Create a device: the token is shown once and works on the device API.
    await nav(page, "Devices")
    await page.get_by_role("button", name="Create device").click()
    dialog = page.get_by_role("dialog", name="Create device")
    await dialog.get_by_label("Device ID (optional)").fill("e2e-sensor")
    await dialog.get_by_label("Name").fill("E2E sensor")
    await dialog.get_by_role("button", name="Create device").click()
    await expect(dialog.get_by_text("Copy this token now")).to_be_visible()
    token = (await dialog.get_by_test_id("provision-token").inner_text()).strip()
    await shot(page, "12-device-created-token")
    async with httpx.AsyncClient(base_url=stack.device, headers={"X-Provision-Token": token}) as device:
        assert (await device.get("/device/v1/jobs/pending")).status_code == 200
    await dialog.get_by_role("link", name="Open device").click()
    await expect(page.get_by_role("heading", name="Device e2e-sensor")).to_be_visible()

    # Twin: edit desired; the delta shows what the device has not reported yet.
    await page.get_by_role("button", name="Edit desired").click()
    await page.get_by_label("Desired state (JSON)").fill('{"fan": "on", "rate_s": 30}')
    await page.get_by_role("button", name="Save desired").click()
    await expect(page.get_by_role("group", name="delta")).to_contain_text('"fan": "on"')
    await expect(page.get_by_role("group", name="desired state")).to_contain_text('"rate_s": 30')
    await shot(page, "13-device-twin")

    # Groups: create one, add the new device, remove it again.
    await nav(page, "Groups")
    await expect(page.get_by_role("table", name="groups").locator('tr[data-group-id="lab"]')).to_contain_text(
        "8"
    )
    await shot(page, "14-groups")
    await page.get_by_role("button", name="Create group").click()
    dialog = page.get_by_role("dialog", name="Create group")
    await dialog.get_by_label("Group ID (optional)").fill("e2e-group")
    await dialog.get_by_label("Name").fill("E2E group")
    await dialog.get_by_role("button", name="Create group").click()
    await expect(page.get_by_role("heading", name="Group e2e-group")).to_be_visible()
    await expect(page.get_by_text("No members yet.")).to_be_visible()
    await page.get_by_placeholder("Search devices").fill("e2e-sen")
    await page.get_by_role("option", name=re.compile("^e2e-sensor")).click()
    await page.get_by_role("button", name="Add", exact=True).click()
    members = page.get_by_role("table", name="members")
    await expect(members.locator('tr[data-device-id="e2e-sensor"]')).to_be_visible()
    await shot(page, "15-group-detail")
    await members.get_by_role("button", name="Remove e2e-sensor").click()
    await expect(page.get_by_text("No members yet.")).to_be_visible()

    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login"))
    await page.goto("/devices")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fdevices"))
    assert console.errors == [], console.errors

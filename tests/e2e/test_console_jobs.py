"""The web console's jobs workflow in a real browser against the real APIs and PostgreSQL."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.conftest import Services, Tenant
from tests.e2e.conftest import add_user, admin_email, sign_in


async def api_job(tenant: Tenant, job_id: str) -> dict:
    async with tenant.api() as api:
        r = await api.get(f"/customer/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return r.json()


def job_id_from(page: Page) -> str:
    match = re.search(r"/jobs/([^/?#]+)$", page.url)
    assert match, page.url
    return match.group(1)


async def test_sign_in_refuses_a_wrong_password_then_follows_the_deep_link(
    page: Page, tenant: Tenant
) -> None:
    await page.goto("/jobs/no-such-job")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fjobs%2Fno-such-job$"))
    await page.get_by_label("E-mail").fill(admin_email(tenant))
    await page.get_by_label("Password").fill("wrong-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("incorrect e-mail or password")

    await page.get_by_label("Password").fill("password-123")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/jobs/no-such-job$"))
    await expect(page.get_by_role("alert")).to_have_text("job 'no-such-job' not found")
    await expect(page.get_by_text(f"tenant {tenant.tenant_id}")).to_be_visible()


async def test_device_create_job_button_runs_a_job_to_completion(page: Page, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="e2e")
    await sign_in(page, admin_email(tenant))
    await page.get_by_role("navigation", name="main").get_by_role("link", name="Devices").click()
    await page.get_by_role("link", name=dev).click()
    await expect(page.get_by_role("heading", name=f"Device {dev}")).to_be_visible()
    await expect(page.get_by_text("No jobs for this device.")).to_be_visible()

    await page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    await expect(dialog.get_by_label("Device ID")).to_have_value(dev)
    await dialog.get_by_label("Document type").fill("reboot")
    await expect(dialog.get_by_label("Parameters (JSON object)")).to_have_value('{"delay_s": 5}')
    await dialog.get_by_label("Expires in (hours)").fill("1")
    await dialog.get_by_role("button", name="Create job").click()

    await expect(page).to_have_url(re.compile(r"/jobs/[^/]+$"))
    job_id = job_id_from(page)
    await expect(page.get_by_role("heading", name=re.compile(f"Job {job_id}"))).to_contain_text("IN_PROGRESS")
    await expect(page.get_by_test_id("execution-count")).to_have_text("1")
    row = page.locator(f'tr[data-device-id="{dev}"]')
    await expect(row).to_contain_text("QUEUED")

    job = await api_job(tenant, job_id)
    assert job["document_type"] == "reboot"
    assert job["document_params"] == {"delay_s": 5}
    assert job["target"] == {"type": "device", "id": dev}
    assert job["expires_at"] is not None
    assert job["created_by"] == admin_email(tenant)

    async with tenant.device_api(dev) as device:
        r = await device.put(f"/device/v1/jobs/{job_id}/execution", json={"status": "IN_PROGRESS"})
        assert r.status_code == 200, r.text
        await page.get_by_role("button", name="Refresh").click()
        await expect(row).to_contain_text("IN_PROGRESS")
        r = await device.put(
            f"/device/v1/jobs/{job_id}/execution",
            json={"status": "SUCCEEDED", "status_details": {"message": "reboot scheduled"}},
        )
        assert r.status_code == 200, r.text

    await page.get_by_role("button", name="Refresh").click()
    await expect(page.get_by_role("heading", name=re.compile(f"Job {job_id}"))).to_contain_text("COMPLETED")
    await expect(row).to_contain_text("SUCCEEDED")
    await expect(row).to_contain_text("reboot scheduled")
    await expect(page.get_by_role("progressbar", name="job progress")).to_have_attribute(
        "aria-valuenow", "100"
    )
    await expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)

    await row.get_by_role("button", name="History").click()
    history = page.get_by_role("region", name=f"history of {dev}")
    await expect(history.get_by_role("listitem")).to_have_count(2)
    await expect(history.get_by_role("listitem").nth(0)).to_contain_text("QUEUED → IN_PROGRESS by device")
    await expect(history.get_by_role("listitem").nth(1)).to_contain_text("IN_PROGRESS → SUCCEEDED by device")

    await row.get_by_role("link", name=dev).click()
    jobs_of_device = page.get_by_role("table", name="device jobs")
    await expect(jobs_of_device.get_by_role("row").filter(has_text=job_id)).to_contain_text("SUCCEEDED")


async def test_jobs_page_targets_a_group_snapshot(page: Page, tenant: Tenant) -> None:
    devices = await tenant.create_devices(3, prefix="grp")
    await tenant.create_group("lab", devices)
    await tenant.create_devices(1, prefix="outsider")
    await sign_in(page, admin_email(tenant))
    await expect(page.get_by_text("No jobs yet.")).to_be_visible()

    await page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    await dialog.get_by_label("Document type").fill("update_config")
    await dialog.get_by_label("A group").check()
    await dialog.get_by_label("Group", exact=True).select_option(label="lab (3 devices)")
    await dialog.get_by_role("button", name="Create job").click()

    await expect(page).to_have_url(re.compile(r"/jobs/[^/]+$"))
    job_id = job_id_from(page)
    await expect(page.get_by_test_id("execution-count")).to_have_text("3")
    executions = page.get_by_role("table", name="executions")
    for dev in devices:
        await expect(executions.locator(f'tr[data-device-id="{dev}"]')).to_contain_text("QUEUED")
    await expect(page.locator('[data-count="queued"]')).to_contain_text("3")

    job = await api_job(tenant, job_id)
    assert job["target"] == {"type": "group", "id": "lab"}
    assert job["document_params"] == {"log_level": "debug"}
    assert sorted(x["device_id"] for x in job["executions"]) == sorted(devices)

    await page.get_by_role("link", name="← Jobs").click()
    listed = page.get_by_role("table", name="jobs").locator(f'tr[data-job-id="{job_id}"]')
    await expect(listed).to_contain_text("group lab")
    await expect(listed).to_contain_text("IN_PROGRESS")


async def test_cancel_rejects_queued_executions_and_filters_follow(page: Page, tenant: Tenant) -> None:
    await tenant.create_devices(2, prefix="cx")
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"job_id": "to-cancel", "document_type": "reboot", "target_all": True}
        )
        assert r.status_code == 201, r.text
    await sign_in(page, admin_email(tenant), path="/jobs/to-cancel")
    await expect(page.get_by_test_id("execution-count")).to_have_text("2")

    await page.get_by_role("button", name="Cancel job").click()
    await page.get_by_placeholder("reason (optional)").fill("wrong firmware")
    await page.get_by_role("button", name="Confirm cancel").click()
    await expect(page.get_by_role("heading", name=re.compile("Job to-cancel"))).to_contain_text("CANCELED")
    await expect(page.locator('[data-count="rejected"]')).to_contain_text("2")
    await expect(page.locator("dl.facts dd").filter(has_text="— wrong firmware")).to_be_visible()
    await expect(page.get_by_role("table", name="executions").get_by_text("job_canceled")).to_have_count(2)
    await expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)

    job = await api_job(tenant, "to-cancel")
    assert job["status"] == "CANCELED"
    assert job["cancel_reason"] == "wrong firmware"
    assert {x["status"] for x in job["executions"]} == {"REJECTED"}

    await page.get_by_label("Status").select_option("QUEUED")
    await expect(page.get_by_text("No executions.")).to_be_visible()

    await page.goto("/jobs?status=CANCELED")
    await expect(
        page.get_by_role("table", name="jobs").locator('tr[data-job-id="to-cancel"]')
    ).to_be_visible()
    await page.get_by_label("Status").select_option("COMPLETED")
    await expect(page).to_have_url(re.compile(r"status=COMPLETED"))
    await expect(page.get_by_text("No jobs yet.")).to_be_visible()


async def test_bad_input_is_explained_and_creates_nothing(page: Page, tenant: Tenant) -> None:
    await sign_in(page, admin_email(tenant))
    await page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    await dialog.get_by_label("Document type").fill("reboot")
    await dialog.get_by_label("Parameters (JSON object)").fill('{"delay_s": ')
    await dialog.get_by_label("Device ID").fill("ghost-device")
    await dialog.get_by_role("button", name="Create job").click()
    await expect(dialog.get_by_text(re.compile("^not valid JSON"))).to_be_visible()

    await dialog.get_by_label("Parameters (JSON object)").fill("{}")
    await dialog.get_by_label("Expires in (hours)").fill("-3")
    await dialog.get_by_role("button", name="Create job").click()
    await expect(dialog.get_by_text(re.compile("hours above 0"))).to_be_visible()

    await dialog.get_by_label("Expires in (hours)").fill("")
    await dialog.get_by_role("button", name="Create job").click()
    await expect(dialog.get_by_role("alert")).to_have_text("device 'ghost-device' not found")
    await expect(dialog).to_be_visible()

    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)
    async with tenant.api() as api:
        r = await api.get("/customer/jobs")
        assert r.json()["total"] == 0


async def test_viewer_sees_jobs_but_no_write_actions(page: Page, tenant: Tenant, services: Services) -> None:
    [dev] = await tenant.create_devices(1, prefix="v")
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"job_id": "seen", "document_type": "reboot", "target_device_id": dev}
        )
        assert r.status_code == 201, r.text
    viewer = await add_user(services, tenant.tenant_id, "viewer")
    await sign_in(page, viewer)
    await expect(page.get_by_role("table", name="jobs").locator('tr[data-job-id="seen"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Create job")).to_have_count(0)
    await page.get_by_role("link", name="seen").click()
    await expect(page.get_by_test_id("execution-count")).to_have_text("1")
    await expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    await page.goto(f"/devices/{dev}")
    await expect(page.get_by_role("heading", name=f"Device {dev}")).to_be_visible()
    await expect(page.get_by_role("button", name="Create job")).to_have_count(0)


async def test_a_rejected_token_sends_the_operator_back_to_sign_in(page: Page, tenant: Tenant) -> None:
    await sign_in(page, admin_email(tenant))
    await page.evaluate(
        """() => {
            const s = JSON.parse(localStorage.getItem("iotcloud.session"));
            localStorage.setItem("iotcloud.session", JSON.stringify({ ...s, token: "not-a-valid-token" }));
        }"""
    )
    await page.goto("/devices")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fdevices$"))
    assert await page.evaluate("() => localStorage.getItem('iotcloud.session')") is None

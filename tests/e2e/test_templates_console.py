"""The console's Templates and Audit pages in Chromium against the real `iotcloud up --demo`: a template with
a placeholder is created, a job made from it with the parameter's value, the job deleted (the API's 409 asks
for force, the dialog offers it), and the three actions are on the Audit page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.e2e.conftest import Console, Stack, shot
from tests.e2e.test_console import job_id_from, log_in, nav

DEVICE = "demo-device-03"


async def test_template_to_job_to_deletion_in_the_audit_log(
    console_page: tuple[Page, Console], stack: Stack
) -> None:
    page, console = console_page
    await log_in(page)

    # Templates → Create template, with a placeholder named in the form as it is typed.
    await nav(page, "Templates")
    await expect(page.get_by_role("heading", name="Job templates")).to_be_visible()
    await page.get_by_role("button", name="Create template").click()
    dialog = page.get_by_role("dialog", name="Create job template")
    await dialog.get_by_label("Template ID").fill("e2e-fw")
    await dialog.get_by_label("Document type").fill("firmware_update")
    await dialog.get_by_label("Document (JSON)").fill(
        '{"url": "https://fw.example/${aws:iot:parameter:version}/image.bin"}'
    )
    await expect(dialog.get_by_test_id("template-parameters")).to_contain_text("version")
    await shot(page, "30-create-template")
    await dialog.get_by_role("button", name="Create template").click()

    # Its page lists the parameter; Create job from template asks for its value and a device.
    await expect(page).to_have_url(re.compile(r"/templates/e2e-fw$"))
    await expect(page.get_by_label("template parameters")).to_have_text("version")
    await page.get_by_role("button", name="Create job from template").click()
    form = page.get_by_role("dialog", name="Create job from e2e-fw")
    await form.get_by_label("version").fill("2.0.1")
    await form.get_by_test_id("device-picker").fill(DEVICE)
    await page.get_by_role("option", name=re.compile(f"^{DEVICE}")).click()
    await shot(page, "31-job-from-template")
    await form.get_by_role("button", name="Create job").click()

    await expect(page).to_have_url(re.compile(r"/jobs/[^/]+$"))
    job_id = job_id_from(page)
    await expect(page.get_by_test_id("job-title")).to_contain_text("IN_PROGRESS")
    await expect(page.get_by_label("document parameters")).to_contain_text(
        "https://fw.example/2.0.1/image.bin"
    )

    # Delete: the execution is still QUEUED, so the API answers 409 and the dialog offers force.
    await page.get_by_role("button", name="Delete job").click()
    confirm = page.get_by_role("dialog", name=f"Delete job {job_id}?")
    await confirm.get_by_role("button", name="Delete job").click()
    offer = confirm.get_by_test_id("force-needed")
    await expect(offer).to_be_visible()
    await expect(confirm).to_contain_text("delete it with force")
    await shot(page, "32-delete-needs-force")
    await offer.get_by_role("button", name="Delete with force").click()
    await expect(page).to_have_url(re.compile(r"/jobs$"))
    await expect(page.get_by_role("link", name=job_id)).to_have_count(0)

    # The Audit page: the three actions, newest first; the deleted job is no longer linked.
    await nav(page, "Audit")
    rows = page.get_by_role("table", name="audit log").locator("tbody tr[data-action]")
    await expect(rows.nth(0)).to_have_attribute("data-action", "job.deleted")
    await expect(rows.nth(0)).to_contain_text(job_id)
    await expect(rows.nth(1)).to_have_attribute("data-action", "job.created")
    await expect(rows.nth(2)).to_have_attribute("data-action", "template.created")
    await expect(rows.nth(2).get_by_role("link")).to_have_attribute("href", "/templates/e2e-fw")
    await expect(rows.nth(0).get_by_role("link")).to_have_count(0)
    await rows.nth(0).get_by_role("button", name="Show").click()
    await expect(page.get_by_text('"force": true')).to_be_visible()
    # a filter goes to the URL and narrows the log
    await page.get_by_role("combobox", name="Action").fill("template.cr")
    await page.get_by_role("option", name="template.created").click()
    await page.get_by_role("button", name="Apply").click()
    await expect(page).to_have_url(re.compile(r"/audit\?action=template\.created$"))
    await expect(rows).to_have_count(1)
    await shot(page, "33-audit")
    # the browser logs every refused request: the delete's 409, and a 404 of the deleted job's page should one
    # of its polls have been in flight when the job vanished, are the only ones expected
    expected = [e for e in console.errors if "status of 409 (Conflict)" in e]
    gone = [e for e in console.errors if "status of 404 (Not Found)" in e and f"/customer/jobs/{job_id}" in e]
    assert [e for e in console.errors if e not in expected + gone] == [], console.errors
    assert len(expected) == 1, console.errors

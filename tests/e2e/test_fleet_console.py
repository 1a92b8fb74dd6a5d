"""Fleet work in Debian's Chromium against the real `iotcloud up --demo`: devices imported from a CSV file
(the tokens downloaded once, and working on the device API), all devices matching a filter added to a group,
and a job created for a selection, with its executions."""

from __future__ import annotations

import csv
import io
import re

import httpx
from playwright.async_api import Page, expect

from tests.e2e.conftest import Console, Stack, shot
from tests.e2e.test_console import log_in, nav

PREFIX = "fleet-e2e"
COUNT = 30  # more than a page (25): "select all matching" selects the ones on other pages too


def fleet_csv() -> bytes:
    rows = ["device_id,name,site"] + [
        f"{PREFIX}-{i:02d},Fleet {i},{'east' if i % 2 else 'west'}" for i in range(COUNT)
    ]
    return ("\n".join(rows) + "\n").encode()


async def search_devices(page: Page, text: str, total: int) -> None:
    """Searches the devices list and waits for the answer (the previous page stays shown until then)."""
    await nav(page, "Devices")
    await page.get_by_label("Search").fill(text)
    await expect(page).to_have_url(re.compile(f"q={text}"))
    if total > 25:
        await expect(page.get_by_text(f"1–25 of {total}")).to_be_visible()
    else:
        await expect(page.get_by_role("table", name="devices").locator("tbody tr")).to_have_count(total)


async def test_fleet_work_from_the_browser(console_page: tuple[Page, Console], stack: Stack) -> None:
    page, console = console_page
    await log_in(page)

    # A group to fill.
    await nav(page, "Groups")
    await page.get_by_role("button", name="Create group").click()
    form = page.get_by_role("form", name="create group")
    await form.get_by_label("Group ID (optional)").fill(PREFIX)
    await form.get_by_label("Name").fill("Fleet e2e")
    await form.get_by_role("button", name="Create group").click()
    await expect(page.get_by_role("heading", name=f"Group {PREFIX}")).to_be_visible()

    # Import: a bad file is refused with its problems by line; the good one is previewed, then imported.
    await nav(page, "Devices")
    await page.get_by_role("button", name="Import CSV").click()
    dialog = page.get_by_role("dialog", name="Import devices from CSV")
    await dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"device_id,name\nok-1,a\nbad id,b\n"}]
    )
    problems = dialog.get_by_role("table", name="problems")
    await expect(problems.get_by_role("row").nth(1)).to_contain_text("3device_id'bad id' is not a device id")
    await shot(page, "fleet-01-import-refused")
    await dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "fleet.csv", "mimeType": "text/csv", "buffer": fleet_csv()}]
    )
    await expect(dialog.get_by_test_id("import-preview")).to_contain_text(f"{COUNT} devices ready to import")
    await shot(page, "fleet-02-import-preview")
    await dialog.get_by_role("button", name=f"Import {COUNT} devices").click()
    await expect(dialog.get_by_test_id("tokens-once")).to_contain_text("shown once")
    async with page.expect_download() as download_info:
        await dialog.get_by_role("button", name="Download tokens (CSV)").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".csv")
    path = await download.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [r["device_id"] for r in rows] == [f"{PREFIX}-{i:02d}" for i in range(COUNT)]
    assert all(r["provision_token"].startswith("tok-") for r in rows)
    await shot(page, "fleet-03-imported")
    await dialog.get_by_role("button", name="Done").click()
    # a downloaded token is the device's: the device API takes it
    async with httpx.AsyncClient(base_url=stack.device, timeout=10) as device:
        r = await device.get(
            "/device/v1/jobs/pending", headers={"X-Provision-Token": rows[0]["provision_token"]}
        )
        assert r.status_code == 200, r.text

    # Select all matching the filter (beyond the first page) and add them to the group.
    await search_devices(page, PREFIX, COUNT)
    table = page.get_by_role("table", name="devices")
    await expect(table.locator("tbody tr")).to_have_count(25)
    await table.get_by_role("checkbox", name="Select every device on this page").check()
    await expect(page.get_by_test_id("selection-count")).to_have_text("25 selected")
    await page.get_by_role("button", name=f"Select all {COUNT} matching").click()
    await expect(page.get_by_test_id("selection-count")).to_have_text(
        f"All {COUNT} matching devices selected"
    )
    await shot(page, "fleet-04-all-matching")
    await page.get_by_role("region", name="selection").get_by_role("button", name="Add to group").click()
    dialog = page.get_by_role("dialog", name="Add to group")
    await dialog.get_by_role("combobox", name="Group").fill("Fleet")
    await page.get_by_role("option", name=f"Fleet e2e ({PREFIX})").click()
    await dialog.get_by_role("button", name="Add to group").click()
    await expect(page.get_by_text(f"{COUNT} devices added to {PREFIX}")).to_be_visible()
    await nav(page, "Groups")
    await page.get_by_role("table", name="groups").get_by_role("link", name=PREFIX).click()
    await expect(page.get_by_text(f"{COUNT} members")).to_be_visible()

    # A job for three devices picked by hand: its executions are theirs.
    await search_devices(page, f"{PREFIX}-1", 10)
    table = page.get_by_role("table", name="devices")
    await expect(table.locator("tbody tr")).to_have_count(10)
    picked = [f"{PREFIX}-11", f"{PREFIX}-13", f"{PREFIX}-17"]
    for device_id in picked:
        await table.get_by_role("checkbox", name=f"Select {device_id}").check()
    await expect(page.get_by_test_id("selection-count")).to_have_text("3 selected")
    await page.get_by_role("region", name="selection").get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    await expect(dialog.get_by_test_id("job-reach")).to_contain_text("3 devices")
    await dialog.get_by_role("combobox", name="Document type").fill("reboot")
    await shot(page, "fleet-05-create-job-for-selection")
    await dialog.get_by_role("button", name="Create job").click()
    await expect(page).to_have_url(re.compile(r"/jobs/[^/]+$"))
    await expect(page.get_by_test_id("execution-count")).to_have_text("3")
    executions = page.get_by_role("table", name="executions")
    for device_id in picked:
        await expect(executions.get_by_role("link", name=device_id)).to_be_visible()
    await expect(executions.locator("tbody tr")).to_have_count(3)
    await shot(page, "fleet-06-job-executions")
    # the refused file's 400 is the only error the browser logged
    assert len(console.errors) == 1 and "status of 400 (Bad Request)" in console.errors[0], console.errors

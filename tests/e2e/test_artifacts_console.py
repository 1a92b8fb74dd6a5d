"""The console's Artifacts page in Chromium against the real `iotcloud up --demo`: a file uploaded through
the page (raw body, with its progress) is listed with the SHA-256 of the bytes sent, then deleted."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from playwright.async_api import Page, expect

from tests.e2e.conftest import Console, Stack, shot
from tests.e2e.test_console import log_in, nav


async def test_upload_an_artifact_and_see_it_listed(
    console_page: tuple[Page, Console], stack: Stack, tmp_path: Path
) -> None:
    page, console = console_page
    content = os.urandom(3 * 1024 * 1024 + 17)  # more than one of the server's 1 MiB writes
    firmware = tmp_path / "e2e fw 2.1.bin"
    firmware.write_bytes(content)

    await log_in(page)
    await nav(page, "Artifacts")
    await expect(page.get_by_role("heading", name="Artifacts")).to_be_visible()
    upload = page.get_by_role("form", name="upload artifact")
    await upload.locator('input[type="file"]').set_input_files(str(firmware))
    await expect(upload.get_by_label("Name")).to_have_value("e2e-fw-2.1.bin")  # made from the file's name
    # Chromium's network emulation slows the upload (1 MiB/s), so the bar shows the browser's progress events
    cdp = await page.context.new_cdp_session(page)
    slow = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1024 * 1024}
    await cdp.send("Network.emulateNetworkConditions", slow)
    await upload.get_by_role("button", name="Upload").click()
    bar = upload.get_by_test_id("upload-progress").get_by_role("progressbar")
    await expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^([1-9]|[1-9][0-9])$"))  # 1..99
    await expect(upload.get_by_test_id("upload-progress")).to_contain_text(
        re.compile(r"Uploading \d+% .* of 3\.0 MiB")
    )
    await shot(page, "20-artifact-uploading")
    fast = {**slow, "uploadThroughput": -1}
    await cdp.send("Network.emulateNetworkConditions", fast)

    row = page.get_by_role("table", name="artifacts").locator('tr[data-artifact="e2e-fw-2.1.bin"]')
    await expect(row).to_contain_text("3.0 MiB")
    sha = hashlib.sha256(content).hexdigest()
    await expect(row.locator("[data-sha256]")).to_have_attribute("data-sha256", sha)
    await expect(row).to_contain_text(sha[:12])
    await expect(row).to_contain_text("by admin@demo.local")
    await expect(upload.get_by_label("Name")).to_have_value("")
    await shot(page, "21-artifacts")

    # The same name again: the API's 409, said plainly; nothing else is listed.
    await upload.locator('input[type="file"]').set_input_files(str(firmware))
    await upload.get_by_role("button", name="Upload").click()
    await expect(upload.get_by_test_id("upload-error")).to_contain_text(
        'An artifact named "e2e-fw-2.1.bin" already exists'
    )

    # Its page: no job uses it, so it can be deleted.
    await row.get_by_role("link", name="e2e-fw-2.1.bin").click()
    await expect(page.get_by_role("heading", name=re.compile("Artifact e2e-fw-2.1.bin"))).to_be_visible()
    await expect(page.get_by_text("No job references this artifact.")).to_be_visible()
    await page.get_by_role("button", name="Delete").click()
    await (
        page.get_by_role("dialog", name="Delete artifact e2e-fw-2.1.bin?")
        .get_by_role("button", name="Delete artifact")
        .click()
    )
    await expect(page).to_have_url(re.compile(r"/artifacts$"))
    await expect(page.locator('tr[data-artifact="e2e-fw-2.1.bin"]')).to_have_count(0)
    # the browser logs every refused request: the 409 above is the only one expected
    unexpected = [e for e in console.errors if "status of 409 (Conflict)" not in e]
    assert unexpected == [], console.errors
    assert len(console.errors) == 1, console.errors

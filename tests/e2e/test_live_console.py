"""Live updates in Debian's Chromium against the real `iotcloud up --demo` (docs/live.md): a job page changes
within a couple of seconds when a device (over the device API) finishes its execution, without a reload and
without polling (its GETs are counted: only the ones the stream's event caused); when the stream drops (its
TCP connection is killed with `ss -K`, then /customer/events is refused), the page polls again and still
follows the job."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Locator, Page, Request, expect

from tests.e2e.conftest import Console, Stack, shot

JOB = "live-e2e"
DEVICES = ("demo-device-19", "demo-device-20")  # in no demo group the other browser tests use


async def _create_job(stack: Stack) -> None:
    """A job for a group of two devices, created over the operator API."""
    async with httpx.AsyncClient(base_url=stack.ui, timeout=10) as api:
        r = await api.post("/auth/token", data={"username": "admin@demo.local", "password": "demo-admin"})
        assert r.status_code == 200, r.text
        api.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        r = await api.post("/customer/groups", json={"group_id": "live", "name": "live"})
        assert r.status_code == 201, r.text
        r = await api.post("/customer/groups/live/members", json={"device_ids": list(DEVICES)})
        assert r.status_code == 200, r.text
        r = await api.post(
            "/customer/jobs", json={"job_id": JOB, "document_type": "reboot", "target_group_id": "live"}
        )
        assert r.status_code == 201, r.text


async def _device_moves(stack: Stack, device_id: str, *statuses: str) -> None:
    token = json.loads((stack.home / "demo-tokens.json").read_text())[device_id]
    async with httpx.AsyncClient(
        base_url=stack.device, headers={"X-Provision-Token": token}, timeout=10
    ) as d:
        for status in statuses:
            r = await d.put(f"/device/v1/jobs/{JOB}/execution", json={"status": status})
            assert r.status_code == 200, r.text


def _drop_connections(stack: Stack) -> None:
    """Kills the browser's open TCP connections to the operator API (the stream's among them), as a network
    or a proxy dropping them would."""
    ss = shutil.which("ss")
    assert ss, "the test drops connections with iproute2's `ss -K`"
    port = urlsplit(stack.ui).port
    subprocess.run([ss, "-K", "dst", "127.0.0.1", "dport", "=", f":{port}"], check=True, capture_output=True)


def _row(page: Page, device_id: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=device_id, exact=True))


async def test_a_job_page_follows_a_device_live_then_by_polling(
    console_page: tuple[Page, Console], stack: Stack
) -> None:
    page, console = console_page
    await _create_job(stack)

    job_gets: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "GET" and re.search(rf"/customer/jobs/{JOB}(/|\?|$)", request.url):
            job_gets.append(request.url)

    page.on("request", on_request)
    await page.goto("/login")
    await page.get_by_label("E-mail").fill("admin@demo.local")
    await page.get_by_label("Password", exact=True).fill("demo-admin")
    await page.get_by_role("button", name="Sign in").click()
    indicator = page.get_by_test_id("live-indicator")
    await expect(indicator).to_have_attribute("data-live", "true")
    await page.goto(f"/jobs/{JOB}")
    await expect(page.get_by_test_id("job-title")).to_contain_text("IN_PROGRESS")
    await expect(_row(page, DEVICES[1])).to_contain_text("QUEUED")
    await expect(indicator).to_have_attribute("data-live", "true")
    await page.evaluate("window.__notReloaded = true")

    # Live: nothing is polled (the page would GET the job and its executions every 2 s otherwise).
    await page.wait_for_timeout(500)
    job_gets.clear()
    await page.wait_for_timeout(5_000)
    assert job_gets == [], job_gets

    # A device claims and finishes: the page shows it within a couple of seconds, from the stream's event.
    await _device_moves(stack, DEVICES[1], "IN_PROGRESS", "SUCCEEDED")
    await expect(_row(page, DEVICES[1])).to_contain_text("SUCCEEDED", timeout=2_500)
    await shot(page, "live-01-succeeded-live")
    assert job_gets, "the change came without a request?"
    # what refetched are the page's views of this job: the job, its executions, its series and failure reasons
    views = re.compile(rf"/customer/jobs/{JOB}(/executions|/status-series|/failure-reasons)?(\?.*)?$")
    assert all(views.search(u) for u in job_gets), job_gets
    assert await page.evaluate("window.__notReloaded === true")

    # The stream drops and cannot come back: the page polls again, and still follows the job.
    await page.route("**/customer/events", lambda route: route.abort())
    _drop_connections(stack)
    await expect(indicator).to_have_attribute("data-live", "false", timeout=3_000)
    await page.wait_for_timeout(1_000)
    job_gets.clear()
    await page.wait_for_timeout(5_000)
    assert len([u for u in job_gets if u.endswith(f"/jobs/{JOB}")]) >= 2, job_gets  # every 2 s
    await expect(indicator).to_have_attribute("data-live", "false")
    await _device_moves(stack, DEVICES[0], "IN_PROGRESS", "SUCCEEDED")
    await expect(page.get_by_test_id("job-title")).to_contain_text("COMPLETED", timeout=5_000)
    await expect(_row(page, DEVICES[0])).to_contain_text("SUCCEEDED")
    await shot(page, "live-02-completed-polling")
    assert await page.evaluate("window.__notReloaded === true")

    # only what the drop itself caused: the refused streams
    assert [e for e in console.errors if "customer/events" not in e] == []

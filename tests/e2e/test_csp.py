"""The console runs under its strict Content-Security-Policy (no inline script, styles only from the origin
or with the page's nonce) in Debian's Chromium against the real `iotcloud up --demo`: it loads, logs in,
lists jobs, opens a job and a modal, with no CSP violation reported by the browser and no console error.
The same `iotcloud up` serves Prometheus metrics on its own port."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Console, Stack, shot
from tests.e2e.test_console import log_in, nav

# Installed before any page script runs (Playwright's init scripts are not subject to the page's CSP):
# every violation the browser reports is kept for the test to read.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""


async def violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.__cspViolations")
    return found


async def test_console_runs_under_its_csp_without_violations(
    console_page: tuple[Page, Console], stack: Stack
) -> None:
    page, console = console_page
    await page.add_init_script(WATCH_VIOLATIONS)
    async with httpx.AsyncClient(base_url=stack.ui, timeout=30) as api:
        token = stack.cli("token", "--email", "admin@demo.local").strip()
        auth = {"Authorization": f"Bearer {token}"}
        r = await api.post(
            "/customer/jobs",
            headers=auth,
            json={"job_id": "csp-check", "document_type": "reboot", "target_group_id": "lab"},
        )
        assert r.status_code in (201, 409), r.text  # 409: created by an earlier run on this stack

    await log_in(page)
    await nav(page, "Jobs")
    response = await page.reload()  # this document's own policy (each response of the page has its nonce)
    assert response is not None
    csp = await response.header_value("content-security-policy")
    assert csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    jobs = page.get_by_role("table", name="jobs")
    await expect(jobs.locator('tr[data-job-id="csp-check"]')).to_be_visible()
    # Mantine's own <style> elements are there, and carry this response's nonce
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce
    styles = await page.evaluate("[...document.querySelectorAll('style')].map((s) => s.nonce)")
    assert styles and all(n == nonce.group(1) for n in styles), (styles, csp)

    await page.get_by_role("link", name="csp-check").click()
    await expect(page).to_have_url(re.compile(r"/jobs/csp-check$"))
    await expect(page.get_by_test_id("execution-count")).to_have_text(re.compile(r"^\d+$"))
    await nav(page, "Jobs")
    await page.get_by_role("button", name="Create job").click()
    dialog = page.get_by_role("dialog", name="Create job")
    await expect(dialog).to_be_visible()
    await shot(page, "csp-create-job-modal")
    await page.keyboard.press("Escape")
    await nav(page, "Devices")
    devices = page.get_by_role("table", name="devices")
    await expect(devices.get_by_role("link", name="demo-device-01")).to_be_visible()

    assert await violations(page) == []
    csp_errors = [e for e in console.errors if "Content Security Policy" in e or "Refused to" in e]
    assert csp_errors == [] and console.errors == []


async def test_iotcloud_up_serves_metrics_on_its_own_port(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as c:
        assert (await c.get(f"{stack.ui}/health")).status_code == 200
        r = await c.get(stack.metrics)
        assert r.status_code == 404  # only /metrics
        r = await c.get(f"{stack.metrics}/metrics")
    assert r.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    served = {s.labels.get("service") for s in families["iotcloud_http_requests"].samples}
    assert "ui" in served  # the /health above, counted by the one process that runs every service
    pools = {s.labels["service"] for s in families["iotcloud_db_pool_max"].samples}
    assert pools == {"ui", "device", "aws", "mqtt", "worker"}  # every service `iotcloud up` runs
    assert any(
        s.labels == {"tick": "jobs_expiry"} for s in families["iotcloud_tick_interval_seconds"].samples
    )

"""Browser fixtures for the web console: Debian's Chromium driven by Playwright against the live
operator API (which serves the built console from frontend/dist)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from shared.db import SET_TENANT, connect
from shared.tenants import upsert_user
from tests.conftest import Services, Tenant

ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "frontend" / "dist" / "index.html"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "password-123"  # what tests/conftest.py's make_tenant gives its users

expect.set_options(timeout=10_000)


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    pytest.fail("no Chromium found: install Debian's `chromium` (.ci/run does) or set CHROMIUM=/path")


@pytest.fixture(scope="session")
def console_built() -> None:
    if not DIST_INDEX.exists():
        pytest.fail("web console not built: run `make frontend` (make e2e does)")


@pytest.fixture(scope="session")
async def browser(console_built: None) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        await browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
async def page(browser: Browser, services: Services, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=services.ui.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = await context.new_page()
    yield page
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
        await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    await context.close()


async def add_user(services: Services, tenant_id: str, role: str) -> str:
    """Adds a user with `role` to an existing tenant; returns the e-mail (password PASSWORD)."""
    email = f"{role}@{tenant_id}.test"
    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant_id)
            await upsert_user(conn, tenant_id, email, PASSWORD, role)
    finally:
        await conn.close()
    return email


async def sign_in(page: Page, email: str, path: str = "/jobs") -> None:
    await page.goto(path)
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("navigation", name="main")).to_be_visible()


def admin_email(tenant: Tenant) -> str:
    return f"admin@{tenant.tenant_id}.test"

"""Browser fixtures for the web console: the real `iotcloud up --demo` on a temp home (embedded
PostgreSQL, built console served by the operator API) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright, expect

from tests.support.stack import Stack, iotcloud_up

ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "frontend" / "dist" / "index.html"
SHOTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    if not DIST_INDEX.exists():
        pytest.fail("web console not built: run `make frontend` (make e2e does)")
    # Not under pytest's 0700 tmp root: as root, the embedded PostgreSQL runs as another user.
    home = Path(tempfile.mkdtemp(prefix="iotcloud-e2e-"))
    home.chmod(0o755)
    try:
        with iotcloud_up(home) as s:
            yield s
    finally:
        shutil.rmtree(home, ignore_errors=True)


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    pytest.fail("no Chromium found: install Debian's `chromium` (.ci/run does) or set CHROMIUM=/path")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@dataclass
class Console:
    """Everything the page reported as an error: console.error calls and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"console.error: {msg.text} ({msg.location.get('url', '')})")

    def on_page_error(self, err: Error) -> None:
        self.errors.append(f"pageerror: {err}")


@pytest.fixture
async def console_page(browser: Browser, stack: Stack) -> AsyncIterator[tuple[Page, Console]]:
    context = await browser.new_context(base_url=stack.ui, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    console = Console()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page, console
    await context.close()


async def shot(page: Page, name: str) -> None:
    """Saves a full-page screenshot of the current screen under test-artifacts/e2e/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.wait_for_timeout(250)  # let Mantine's transitions settle
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

"""Browser fixtures for the web console: the real `iotcloud up --demo` on a temp home (embedded
PostgreSQL, built console served by the operator API) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright, expect

from tests.e2e.tour import plant_tour
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


@contextmanager
def fresh_stack() -> Iterator[Stack]:
    """A new `iotcloud up --demo` on a temp home, removed afterwards."""
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


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with fresh_stack() as s:
        yield s


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
    async with open_page(browser, stack.ui) as (page, console):
        yield page, console


async def shot(page: Page, name: str) -> None:
    """Saves a full-page screenshot of the current screen under test-artifacts/e2e/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.wait_for_timeout(250)  # let Mantine's transitions settle
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="session")
async def tour_stack() -> AsyncIterator[Stack]:
    """A stack of its own with content on every page (tests/e2e/tour.py): the other browser tests' stack
    starts with no jobs, as their operator flow expects."""
    with fresh_stack() as s:
        await plant_tour(s)
        yield s


@pytest.fixture(scope="session")
async def signed_in(browser: Browser, tour_stack: Stack) -> dict[str, Any]:
    """The storage state of a browser signed in to the tour stack through the login form, for contexts
    that start signed in."""
    context = await browser.new_context(base_url=tour_stack.ui)
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("E-mail").fill("admin@demo.local")
    await page.get_by_label("Password", exact=True).fill("demo-admin")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("navigation", name="main")).to_be_visible()
    state = await context.storage_state()
    await context.close()
    return dict(state)


@asynccontextmanager
async def open_page(
    browser: Browser,
    base_url: str,
    *,
    color_scheme: Literal["light", "dark"] = "light",
    viewport: tuple[int, int] = (1366, 900),
    storage_state: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[Page, Console]]:
    """A page in a new context (its own storage) in the given color scheme, its errors collected."""
    context = await browser.new_context(
        base_url=base_url,
        viewport={"width": viewport[0], "height": viewport[1]},
        color_scheme=color_scheme,
        storage_state=storage_state,  # type: ignore[arg-type]
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    console = Console()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    try:
        yield page, console
    finally:
        await context.close()

"""Browser fixtures for the web console: the real `iotcloud up --demo` on a temp home (embedded
PostgreSQL, built console served by the operator API) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright, expect

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "frontend" / "dist" / "index.html"
SHOTS = ROOT / "test-artifacts" / "e2e"
BIN = Path(sys.executable).parent
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


@dataclass
class Stack:
    home: Path
    ui: str
    device: str
    proc: subprocess.Popen[bytes]


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "iotcloud up exited early"
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    if not DIST_INDEX.exists():
        pytest.fail("web console not built: run `make frontend` (make e2e does)")
    # Not under pytest's 0700 tmp root: as root, the embedded PostgreSQL runs as another user.
    home = Path(tempfile.mkdtemp(prefix="iotcloud-e2e-"))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IOTCLOUD_", "DATABASE_URL"))}
    ui_port, dev_port = free_port(), free_port()
    log = (home / "up.log").open("wb")
    cmd = [str(BIN / "iotcloud"), "--home", str(home), "up", "--ui-port", str(ui_port)]
    cmd += ["--device-port", str(dev_port), "--jobs-tick-seconds", "1", "--demo"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    s = Stack(home, f"http://127.0.0.1:{ui_port}", f"http://127.0.0.1:{dev_port}", proc)
    try:
        _wait_ready(s.ui, proc)
        _wait_ready(s.device, proc)
        yield s
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                assert proc.wait(60) == 0, "iotcloud up did not exit cleanly on SIGINT"
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
        log.close()
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

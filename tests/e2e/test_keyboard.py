"""The console by keyboard only, in Chromium against the real `iotcloud up --demo` (the tour's stack): sign
in, skip to the content, move through the navigation, open a job from its row's link, open the Cancel job
dialog (the focus stays inside it) and dismiss it (the focus returns to its button); every focused control
shows a focus ring. No mouse event is sent."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable

from playwright.async_api import Browser, Locator, Page, expect

from tests.e2e.conftest import open_page, shot
from tests.e2e.tour import JOB
from tests.support.stack import Stack

FOCUSED = "(el) => el === document.activeElement"
# a visible focus indicator: an outline (Mantine's focus ring, the skip link's) that is drawn, or for a text
# field Mantine's focused border (its box's, for a password field), in the primary color
RING = """(el) => {
  const s = getComputedStyle(el);
  if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1) return true;
  if (el.tagName !== "INPUT" && el.tagName !== "TEXTAREA") return false;
  const probe = document.createElement("span");
  probe.style.color = "var(--mantine-primary-color-filled)";
  document.body.append(probe);
  const primary = getComputedStyle(probe).color;
  probe.remove();
  const box = el.closest(".mantine-Input-input") || el; // a password field's box holds its <input>
  return getComputedStyle(box).borderTopColor === primary;
}"""


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 40) -> None:
    """Presses Tab (Shift+Tab) until the target has the focus; fails after `limit` presses."""
    for _ in range(limit):
        if await target.count() == 1 and await target.evaluate(FOCUSED):
            # (polled: Mantine's inputs color their border with a short transition)
            await eventually(lambda: target.evaluate(RING), f"{target} shows no focus ring")
            return
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{target} never got the focus in {limit} presses")


async def focus_inside(dialog: Locator) -> bool:
    inside: bool = await dialog.evaluate("(d) => d.contains(document.activeElement)")
    return inside


async def test_sign_in_open_a_job_and_a_dialog_by_keyboard(browser: Browser, tour_stack: Stack) -> None:
    async with open_page(browser, tour_stack.ui) as (page, console):
        await page.goto("/jobs")
        await expect(page).to_have_url(re.compile(r"/login\?next="))

        # Sign in: Tab to each field, type, Enter submits the form.
        await tab_to(page, page.get_by_label("E-mail"))
        await page.keyboard.type("admin@demo.local")
        await tab_to(page, page.get_by_label("Password", exact=True))
        await page.keyboard.type("demo-admin")
        await page.keyboard.press("Enter")
        main_nav = page.get_by_role("navigation", name="main")
        await expect(main_nav).to_be_visible()
        await expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()

        # The first Tab reaches "Skip to content", shown while focused; Enter moves the focus to the content.
        await page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        await expect(skip).to_be_focused()
        await expect(skip).to_be_in_viewport()
        await shot(page, "keyboard-skip-link")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("main")).to_be_focused()
        # ... from where the next Tab is in the page, past the header and the navigation
        await page.keyboard.press("Tab")
        assert await main_nav.evaluate("(n) => !n.contains(document.activeElement)")
        assert await page.get_by_role("main").evaluate("(m) => m.contains(document.activeElement)")

        # The navigation: back to it with Shift+Tab, Enter follows a link.
        await tab_to(page, main_nav.get_by_role("link", name="Devices"), backwards=True)
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(r"/devices$"))
        await expect(page.get_by_role("table", name="devices")).to_be_visible()
        await tab_to(page, main_nav.get_by_role("link", name="Jobs"), backwards=True)
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(r"/jobs$"))

        # A row's primary link, then the job's page.
        row_link = page.get_by_role("table", name="jobs").get_by_role("link", name=JOB)
        await expect(row_link).to_be_visible()
        await tab_to(page, row_link)
        await shot(page, "keyboard-row-link")
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(f"/jobs/{JOB}$"))
        await expect(page.get_by_test_id("job-title")).to_contain_text("IN_PROGRESS")

        # The Cancel job dialog: opened with Enter, the focus inside it and kept there, Escape closes it
        # (nothing canceled) and gives the focus back to its button.
        cancel = page.get_by_role("button", name="Cancel job")
        await tab_to(page, cancel)
        await page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name=f"Cancel job {JOB}?")
        await expect(dialog).to_be_visible()
        await eventually(lambda: focus_inside(dialog), "the focus is not in the dialog")
        for _ in range(12):  # more Tabs than the dialog has controls: the focus wraps around inside it
            await page.keyboard.press("Tab")
            assert await focus_inside(dialog)
        for _ in range(3):
            await page.keyboard.press("Shift+Tab")
            assert await focus_inside(dialog)
        await shot(page, "keyboard-cancel-dialog")
        await page.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)
        await expect(cancel).to_be_focused()
        await expect(page.get_by_test_id("job-title")).to_contain_text("IN_PROGRESS")
        assert console.errors == [], console.errors

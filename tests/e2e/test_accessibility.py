"""Every page of the console, in the light and the dark color scheme (the console follows the system's),
checked by axe-core in Chromium against the real `iotcloud up --demo` with content on each page
(tests/e2e/tour.py): no serious or critical violation. A full-page screenshot of each is saved under
test-artifacts/e2e/a11y-<page>-<scheme>.png.

With IOTCLOUD_DOCS_SHOTS=1 the light-scheme run also writes the screenshots of docs/console.md
(docs/console/<page>.png, 1280x800): `make docs-shots` refreshes them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.axe import axe_violations, blocking
from tests.e2e.conftest import ROOT, open_page, shot
from tests.e2e.tour import ARTIFACT, CONTINUOUS_JOB, DEVICE, DONE_JOB, GROUP, JOB, SCHEDULED_JOB, TEMPLATE
from tests.support.stack import Stack

DOCS_SHOTS = ROOT / "docs" / "console"
DOCS_VIEWPORT = (1280, 800)


@dataclass(frozen=True)
class Route:
    name: str  # the test's id and the screenshots' name (docs/console/<name>.png)
    path: str
    heading: str  # a regular expression for the page's heading, there once the page has loaded
    signed_in: bool = True


# Every page of the console: a new page gets its line here (and its section in docs/console.md).
ROUTES = [
    Route("login", "/login", "^iotcloud console$", signed_in=False),
    Route("dashboard", "/dashboard", "^Dashboard$"),
    Route("jobs", "/jobs", "^Jobs$"),
    Route("job", f"/jobs/{JOB}", f"^Job {JOB}"),
    Route("devices", "/devices", "^Devices$"),
    Route("device", f"/devices/{DEVICE}", f"^Device {DEVICE}$"),
    Route("groups", "/groups", "^Groups$"),
    Route("group", f"/groups/{GROUP}", f"^Group {GROUP}$"),
    Route("templates", "/templates", "^Job templates$"),
    Route("template", f"/templates/{TEMPLATE}", f"^Template {TEMPLATE}$"),
    Route("artifacts", "/artifacts", "^Artifacts$"),
    Route("artifact", f"/artifacts/{ARTIFACT}", f"^Artifact {re.escape(ARTIFACT)}$"),
    Route("audit", "/audit", "^Audit log$"),
    Route("access-keys", "/access-keys", "^Access keys$"),
    Route("users", "/users", "^Users$"),
]
SCHEMES: list[Literal["light", "dark"]] = ["light", "dark"]


async def show(page: Page, route: Route) -> None:
    """Opens the route and waits until it has loaded: its heading shown, nothing loading any more."""
    await page.goto(route.path)
    await expect(page.get_by_role("heading", name=re.compile(route.heading))).to_be_visible()
    await expect(page.locator('[aria-busy="true"]')).to_have_count(0)
    await page.wait_for_timeout(300)  # let Mantine's transitions settle


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
async def test_page_has_no_serious_accessibility_violation(
    browser: Browser,
    tour_stack: Stack,
    signed_in: dict[str, Any],
    route: Route,
    scheme: Literal["light", "dark"],
) -> None:
    state = signed_in if route.signed_in else None
    async with open_page(browser, tour_stack.ui, color_scheme=scheme, storage_state=state) as (page, console):
        await show(page, route)
        # the console follows the system's color scheme
        assert await page.evaluate("document.documentElement.dataset.mantineColorScheme") == scheme
        await shot(page, f"a11y-{route.name}-{scheme}")
        found = blocking(await axe_violations(page))
        assert not found, "\n".join(str(v) for v in found)
        if os.environ.get("IOTCLOUD_DOCS_SHOTS") == "1" and scheme == "light":
            await page.set_viewport_size({"width": DOCS_VIEWPORT[0], "height": DOCS_VIEWPORT[1]})
            await page.wait_for_timeout(300)
            DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(DOCS_SHOTS / f"{route.name}.png"))
        assert console.errors == [], console.errors


async def test_the_system_scheme_is_set_before_the_app_runs(browser: Browser, tour_stack: Stack) -> None:
    """public/color-scheme.js (from the origin, allowed by the CSP) sets the dark scheme before the bundle
    runs: with the bundle's scripts blocked, the page is dark already (no white flash)."""
    async with open_page(browser, tour_stack.ui, color_scheme="dark") as (page, _console):
        await page.route(re.compile(r"/assets/.*\.js$"), lambda route: route.abort())
        await page.goto("/login")
        assert await page.evaluate("document.getElementById('root').childElementCount") == 0  # no app
        assert await page.evaluate("document.documentElement.dataset.mantineColorScheme") == "dark"
        body = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert body == "rgb(36, 36, 36)", body  # Mantine's dark body (dark-7), from the stylesheet


async def test_the_check_sees_a_planted_violation(
    browser: Browser, tour_stack: Stack, signed_in: dict[str, Any]
) -> None:
    """The check runs for real: a low-contrast text, an unnamed button and an image without alt text
    planted into a page are reported (the page's CSP does not keep axe out)."""
    async with open_page(browser, tour_stack.ui, storage_state=signed_in) as (page, _console):
        await show(page, ROUTES[1])
        await page.evaluate(
            """() => {
              const main = document.querySelector("main");
              const faint = Object.assign(document.createElement("p"), { id: "planted-faint" });
              faint.textContent = "barely readable";
              faint.style.color = "#bbbbbb";
              faint.style.background = "#ffffff";
              const button = Object.assign(document.createElement("button"), { id: "planted-button" });
              const img = Object.assign(document.createElement("img"), { id: "planted-img" });
              img.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
              main.append(faint, button, img);
            }"""
        )
        found = {v.id: v for v in blocking(await axe_violations(page))}
    planted = {
        "color-contrast": "#planted-faint",
        "button-name": "#planted-button",
        "image-alt": "#planted-img",
    }
    for rule, target in planted.items():
        assert rule in found, (rule, found.keys())
        assert target in [n["target"] for n in found[rule].nodes], found[rule]
    assert found["color-contrast"].impact == "serious"
    assert found["button-name"].impact == "critical"


# Where status badges sit in narrow columns, and the statuses the tour gives them (all but TIMED_OUT, which
# takes a minute of the worker's clock).
BADGE_PAGES = [
    ("/jobs", "^Jobs$"),
    (f"/jobs/{JOB}", f"^Job {JOB}"),
    (f"/jobs/{DONE_JOB}", f"^Job {DONE_JOB}"),
    (f"/jobs/{CONTINUOUS_JOB}", f"^Job {CONTINUOUS_JOB}"),
    (f"/jobs/{SCHEDULED_JOB}", f"^Job {SCHEDULED_JOB}"),
    ("/devices", "^Devices$"),
    ("/devices/demo-device-09", "^Device demo-device-09$"),
    ("/devices/demo-device-20", "^Device demo-device-20$"),
    (f"/artifacts/{ARTIFACT}", f"^Artifact {re.escape(ARTIFACT)}$"),
]
STATUSES = {"QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "CANCELED", "REMOVED", "COMPLETED"}
STATUSES |= {"SCHEDULED"}

# Each badge: its text, and whether the badge or its label is cut (more content than room: an ellipsis).
MEASURE_BADGES = """() => [...document.querySelectorAll(".mantine-Badge-root")].map((b) => {
  const label = b.querySelector(".mantine-Badge-label") || b;
  return {
    text: label.textContent,
    status: b.dataset.status || null,
    cut: b.scrollWidth > b.clientWidth || label.scrollWidth > label.clientWidth,
    widths: [b.scrollWidth, b.clientWidth, label.scrollWidth, label.clientWidth],
  };
})"""


async def test_status_badges_keep_their_whole_text_in_a_narrow_window(
    browser: Browser, tour_stack: Stack, signed_in: dict[str, Any]
) -> None:
    seen: set[str] = set()
    async with open_page(browser, tour_stack.ui, viewport=(720, 900), storage_state=signed_in) as (
        page,
        console,
    ):
        for path, heading in BADGE_PAGES:
            await show(page, Route(path, path, heading))
            badges: list[dict[str, Any]] = await page.evaluate(MEASURE_BADGES)
            assert badges, path
            cut = [b for b in badges if b["cut"]]
            assert cut == [], (path, cut)
            seen |= {b["status"] for b in badges if b["status"]}
            if path == f"/jobs/{JOB}":
                await shot(page, "badges-narrow-job")
        assert console.errors == [], console.errors
    assert seen >= STATUSES, STATUSES - seen

"""axe-core (the npm devDependency in frontend/) run inside the console's pages by Chromium.

The console's Content-Security-Policy allows scripts only from its origin, so a <script> tag added to the
page (Playwright's add_script_tag) would be refused. axe's source is evaluated through the DevTools
protocol instead (page.evaluate: Runtime.evaluate, which the page's policy does not govern), so the check
needs nothing from the production policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_JS = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

# Runs every rule axe has (WCAG 2.x A/AA and its best practices), in the page's current color scheme.
RUN = """async () => {
  const result = await window.axe.run(document, { resultTypes: ["violations"] });
  return {
    version: window.axe.version,
    violations: result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary || "" })),
    })),
  };
}"""


@dataclass(frozen=True)
class Violation:
    id: str
    impact: str
    help: str
    nodes: list[dict[str, str]]

    def __str__(self) -> str:
        where = "\n".join(
            f"    {n['target']}: {n['summary'].splitlines()[-1].strip()}" for n in self.nodes[:8]
        )
        more = f"\n    … and {len(self.nodes) - 8} more" if len(self.nodes) > 8 else ""
        return f"{self.impact} {self.id} ({self.help}) on {len(self.nodes)} node(s):\n{where}{more}"


async def axe_violations(page: Page) -> list[Violation]:
    """Every violation axe finds in the page as it is now (axe is loaded into the page on first use)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE_JS.read_text())
    out: dict[str, Any] = await page.evaluate(RUN)
    assert out["version"] == "4.14.1", out["version"]  # the pinned devDependency, not some other copy
    return [Violation(**v) for v in out["violations"]]


def blocking(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.impact in BLOCKING]

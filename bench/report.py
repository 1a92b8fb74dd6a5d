"""The bench table: printed with Rich, and written to bench/results/latest.md and latest.json."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.stats import Measure, Result

RESULTS = Path(__file__).with_name("results")


def _fmt(m: Measure | None) -> str:
    if m is None or not m.values:
        return "-"
    v = m.median
    num = f"{v:,.0f}" if v >= 100 else f"{v:.3f}" if v < 10 else f"{v:.1f}"
    return f"{num} {m.unit} ±{m.spread * 100:.0f}%"


def _status(r: Result) -> str:
    return "n/a" if r.met is None else "MET" if r.met else "MISSED"


def rows(results: list[Result]) -> list[list[str]]:
    out = []
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        out.append([r.scenario, _fmt(r.ours), _fmt(r.floor), ratio, r.goal, _status(r), r.note])
    return out


HEAD = ["Scenario", "Ours (median ±spread)", "Floor (same run)", "Ratio", "Goal", "", "Notes"]


def print_table(results: list[Result], meta: dict[str, Any]) -> None:
    table = Table(
        title=f"iotcloud bench ({meta['mode']}) on {meta['cpus']} CPUs, PostgreSQL {meta['postgres']}"
    )
    for h in HEAD:
        table.add_column(h, overflow="fold")
    for row in rows(results):
        style = "green" if row[5] == "MET" else "red" if row[5] == "MISSED" else None
        table.add_row(*row, style=style)
    Console(width=200).print(table)


def markdown(results: list[Result], meta: dict[str, Any]) -> str:
    lines = [
        f"# iotcloud bench — {meta['mode']} run, {meta['finished']}",
        "",
        f"PostgreSQL {meta['postgres']} (embedded, default config: {meta['pg_settings']}), "
        f"{meta['cpus']} CPUs, load generator: {meta['load_generator']}, {meta['reps']} repetitions "
        f"(median, ±spread = (max - min) / median), {meta['seconds']:.0f} s in all"
        + ("." if meta.get("complete") else " (INCOMPLETE: the run was stopped or is still going)."),
        "",
        "| " + " | ".join(HEAD) + " |",
        "|" + "---|" * len(HEAD),
    ]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows(results)]
    return "\n".join(lines) + "\n"


def write(results: list[Result], meta: dict[str, Any]) -> tuple[Path, Path]:
    RESULTS.mkdir(exist_ok=True)
    md, js = RESULTS / "latest.md", RESULTS / "latest.json"
    md.write_text(markdown(results, meta))
    js.write_text(json.dumps({"meta": meta, "results": [r.to_json() for r in results]}, indent=2) + "\n")
    return md, js


def meta(
    mode: str, postgres: str, pg_settings: dict[str, str], wrk: str | None, reps: int, seconds: float
) -> dict[str, Any]:
    return {
        "mode": mode,
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "postgres": postgres,
        "pg_settings": ", ".join(f"{k}={v}" for k, v in pg_settings.items()),
        "cpus": os.cpu_count(),
        "load_generator": "wrk (Lua, rotating tokens)" if wrk else "python-httpx fallback (wrk unavailable)",
        "reps": reps,
        "seconds": seconds,
        "complete": False,  # set when every scenario asked for has run
    }

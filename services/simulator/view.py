"""The simulator's live Rich display and its end-of-run summary."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from simulator.stats import SimStats


def _kv_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(key, value)
    return table


def render(summary: dict[str, Any], devices: int, final: bool = False) -> Group:
    """A renderable of a SimStats.summary(): counts, outcomes, errors and latency percentiles."""
    head = "simulation summary" if final else "simulating"
    counts = _kv_table(
        f"{head}: {devices} devices, {summary['elapsed_s']:.1f} s",
        [
            ("polls", f"{summary['polls']:,}"),
            ("executions seen", f"{summary['jobs_seen']:,}"),
            ("transitions", f"{summary['transitions']:,} ({summary['transitions_per_s']:,.1f}/s)"),
            *((f"  -> {k}", f"{v:,}") for k, v in summary["updates_by_status"].items()),
            ("finished", ", ".join(f"{k} {v:,}" for k, v in summary["finished_by_status"].items()) or "-"),
            ("conflicts (409)", f"{summary['conflicts']:,}"),
            (
                "errors",
                ", ".join(f"{k}: {v:,}" for k, v in summary["errors_by_code"].items()) or "none",
            ),
        ],
    )
    lat = Table(title="latency", title_justify="left", box=None)
    lat.add_column("request")
    for col in ("p50", "p90", "p99", "max"):
        lat.add_column(f"{col} ms", justify="right")
    for kind, pct in summary["latency"].items():
        lat.add_row(kind, *(f"{pct[k + '_ms']:.1f}" for k in ("p50", "p90", "p99", "max")))
    parts: list[Any] = [counts, lat]
    if final and summary["server_errors"]:
        parts.append(Text(f"the server answered 5xx {summary['server_errors']} times", style="bold red"))
    return Group(*parts)


def live_renderer(devices: int) -> tuple[Any, Any]:
    """(a Rich Live, an on_tick callback for Fleet.run that refreshes it)."""
    from rich.live import Live

    live = Live(render(SimStats().summary(), devices), refresh_per_second=4, transient=False)

    def on_tick(stats: SimStats) -> None:
        live.update(render(stats.summary(), devices))

    return live, on_tick

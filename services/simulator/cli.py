"""`iotcloud simulate`: drive a fleet of virtual devices against a running device API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from iotcloud.context import load_settings, open_db
from simulator.engine import Fleet, Flow, SimConfig, install_stop_signals
from simulator.fleet import ensure_sim_devices, load_tokens
from simulator.view import live_renderer, render

console = Console(stderr=True)


def _tokens_for_tenant(tenant: str, devices: int) -> dict[str, str]:
    settings = load_settings()
    db = open_db()
    try:
        return asyncio.run(ensure_sim_devices(db.owner_url, db.app_url, settings.home, tenant, devices))
    finally:
        db.close()


async def _run(fleet: Fleet, live: bool) -> dict[str, object]:
    undo = install_stop_signals(fleet)
    try:
        if live:
            display, on_tick = live_renderer(len(fleet.tokens))
            with display:
                stats = await fleet.run(on_tick)
        else:
            stats = await fleet.run()
    finally:
        undo()
    return stats.summary()


def simulate(
    tenant: Annotated[
        str | None, typer.Option(help="create (or reuse) simulated devices in this tenant")
    ] = None,
    devices: Annotated[int, typer.Option(min=1, max=100_000, help="how many devices (with --tenant)")] = 20,
    tokens_file: Annotated[
        Path | None, typer.Option(help="JSON {device_id: token}, e.g. .iotcloud/demo-tokens.json")
    ] = None,
    device_url: Annotated[str, typer.Option(help="device API base URL")] = "http://localhost:8080",
    poll_interval: Annotated[float, typer.Option(min=0.01, help="seconds between polls")] = 5.0,
    jitter: Annotated[float, typer.Option(min=0.0, max=0.99, help="poll jitter, fraction")] = 0.2,
    run_seconds: Annotated[float, typer.Option(min=0.0, help="time to 'run' an execution")] = 2.0,
    progress_steps: Annotated[int, typer.Option(min=0, max=100, help="progress updates per run")] = 2,
    success_rate: Annotated[float, typer.Option(min=0.0, help="weight of SUCCEEDED")] = 0.9,
    fail_rate: Annotated[float, typer.Option(min=0.0, help="weight of FAILED")] = 0.08,
    reject_rate: Annotated[float, typer.Option(min=0.0, help="weight of REJECTED")] = 0.02,
    connections: Annotated[int, typer.Option(min=1, max=4096, help="requests in flight at once")] = 64,
    duration: Annotated[float | None, typer.Option(min=0.1, help="stop after this many seconds")] = None,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="stop when no work is left")] = False,
    idle_seconds: Annotated[float | None, typer.Option(min=0.1, help="idle time for --until-idle")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed, for repeatable runs")] = None,
    flow: Annotated[
        Flow,
        typer.Option(help="poll: poll, then claim each execution; start-next: claim the next in one call"),
    ] = "poll",
    live: Annotated[bool, typer.Option("--live/--no-live", help="live progress display")] = True,
    json_out: Annotated[Path | None, typer.Option("--json", help="also write the summary here")] = None,
) -> None:
    """Drive N virtual devices: poll, claim, report progress, finish. Ctrl-C stops; 5xx exits 1."""
    if (tenant is None) == (tokens_file is None):
        raise typer.BadParameter("give exactly one of --tenant or --tokens-file")
    try:
        if tokens_file is not None:
            tokens = load_tokens(tokens_file)
        else:
            assert tenant is not None
            tokens = _tokens_for_tenant(tenant, devices)
        config = SimConfig(
            device_url=device_url,
            poll_interval=poll_interval,
            jitter=jitter,
            run_seconds=run_seconds,
            progress_steps=progress_steps,
            success_rate=success_rate,
            fail_rate=fail_rate,
            reject_rate=reject_rate,
            connections=connections,
            duration=duration,
            until_idle=until_idle,
            idle_seconds=idle_seconds,
            seed=seed,
            flow=flow,
        )
        config.validate()
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(
        f"simulating {len(tokens)} devices against {device_url} "
        f"(poll every {poll_interval:g}s, run {run_seconds:g}s); Ctrl-C stops",
        highlight=False,
    )

    async def go() -> dict[str, object]:
        return await _run(Fleet(tokens, config), live and console.is_terminal)

    summary = asyncio.run(go())
    console.print(render(summary, len(tokens), final=True))
    if json_out is not None:
        json_out.write_text(json.dumps(summary, indent=2))
    if summary["server_errors"]:
        raise typer.Exit(1)

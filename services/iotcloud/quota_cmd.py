"""`iotcloud set-quota`: a tenant's quotas (docs/operations.md "Quotas")."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from iotcloud.context import console, open_db
from shared.errors import DomainError
from shared.infra.db import connect
from shared.quotas import QUOTA_NAMES, parse_limit, set_quotas

HELP = "a whole number >= 0, or none (no limit)"


def _shown(quotas: dict[str, Any]) -> str:
    return ", ".join(
        f"{name.replace('_', ' ')} {'none' if quotas[name] is None else quotas[name]}" for name in QUOTA_NAMES
    )


def set_quota(
    tenant: Annotated[str, typer.Argument(help="tenant id")],
    devices: Annotated[str | None, typer.Option(help=f"ACTIVE devices: {HELP}")] = None,
    active_jobs: Annotated[str | None, typer.Option(help=f"jobs IN_PROGRESS at once: {HELP}")] = None,
    executions_per_job: Annotated[str | None, typer.Option(help=f"executions of one job: {HELP}")] = None,
    artifact_bytes: Annotated[str | None, typer.Option(help=f"artifact storage, bytes: {HELP}")] = None,
) -> None:
    """Set a tenant's quotas (those not given keep their value; none lifts one) and print them all."""
    given = dict(zip(QUOTA_NAMES, (devices, active_jobs, executions_per_job, artifact_bytes), strict=True))
    try:
        changes = {name: parse_limit(name, text) for name, text in given.items() if text is not None}
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    db = open_db()

    async def go() -> dict[str, Any]:
        conn = await connect(db.owner_url)
        try:
            return await set_quotas(conn, tenant, changes)
        finally:
            await conn.close()

    try:
        quotas = asyncio.run(go())
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    finally:
        db.close()
    print(f"quotas of {tenant}: {_shown(quotas)}")

"""`iotcloud create-tenant`, `tenants`, `set-retention` and `create-user`: tenants and their operators, as
the database owner on the host."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer

from iotcloud.context import console, open_db, setup_logging
from iotcloud.database import Database
from shared.errors import DomainError
from shared.infra.db import SET_TENANT, connect
from shared.tenants import create_tenant, tenant_exists, upsert_user


def _run_refusing_clearly(go: Callable[[], Coroutine[Any, Any, None]], db: Database) -> None:
    """Runs an administration command; what the domain refuses is said in one line, exit code 2."""
    try:
        asyncio.run(go())
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    finally:
        db.close()


def create_tenant_cmd(
    tenant_id: Annotated[str, typer.Argument(help="lowercase id, e.g. acme")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
) -> None:
    """Create a tenant (idempotent)."""
    setup_logging("WARNING")
    db = open_db()

    async def go() -> None:
        conn = await connect(db.owner_url)
        try:
            await create_tenant(conn, tenant_id, name or tenant_id)
        finally:
            await conn.close()

    _run_refusing_clearly(go, db)
    print(f"tenant {tenant_id} ready")


def _days_text(days: int | None) -> str:
    return "forever" if days is None else f"{days} days"


def _print_tenant(t: dict[str, Any]) -> None:
    print(
        f"{t['tenant_id']}  name={t['name']!r}  history kept {_days_text(t['history_retention_days'])}, "
        f"finished jobs kept {_days_text(t['finished_job_retention_days'])}"
    )


def tenants_cmd() -> None:
    """List the tenants with their settings (retention)."""
    from shared.retention import tenant_settings

    setup_logging("WARNING")
    db = open_db()
    rows: list[dict[str, Any]] = []

    async def go() -> None:
        conn = await connect(db.owner_url)
        try:
            rows.extend(await tenant_settings(conn))
        finally:
            await conn.close()

    _run_refusing_clearly(go, db)
    for t in rows:
        _print_tenant(t)


def set_retention_cmd(
    tenant_id: Annotated[str, typer.Argument(help="tenant id")],
    history_days: Annotated[
        int | None,
        typer.Option(help="days the history of a finished job is kept (0: forever; not given: unchanged)"),
    ] = None,
    finished_jobs_days: Annotated[
        int | None,
        typer.Option(
            help="days a finished job is kept, with its executions (0: forever; not given: unchanged)"
        ),
    ] = None,
) -> None:
    """Set how long a tenant keeps job history and finished jobs; the worker purges what is older."""
    from shared.retention import set_retention, tenant_settings

    setup_logging("WARNING")
    db = open_db()
    shown: list[dict[str, Any]] = []

    async def go() -> None:
        conn = await connect(db.owner_url)
        try:
            current = {t["tenant_id"]: t for t in await tenant_settings(conn)}.get(tenant_id)
            keep = current or {"history_retention_days": None, "finished_job_retention_days": None}
            history = keep["history_retention_days"] if history_days is None else history_days
            jobs = keep["finished_job_retention_days"] if finished_jobs_days is None else finished_jobs_days
            shown.append(await set_retention(conn, tenant_id, history, jobs))
        finally:
            await conn.close()

    _run_refusing_clearly(go, db)
    _print_tenant(shown[0])


def create_user_cmd(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    email: Annotated[str, typer.Option(help="login e-mail")],
    role: Annotated[str, typer.Option(help="admin, operator or viewer")] = "admin",
    password: Annotated[
        str | None, typer.Option(envvar="IOTCLOUD_NEW_PASSWORD", help="asked for when not given")
    ] = None,
) -> None:
    """Create an operator (or reset their password and role)."""
    setup_logging("WARNING")
    password = password or getpass.getpass("password: ")
    if len(password) < 8:
        console.print("[red]the password needs at least 8 characters[/red]")
        raise typer.Exit(2)
    db = open_db()

    async def go() -> None:
        conn = await connect(db.app_url)
        try:
            async with conn.transaction():
                await conn.execute(SET_TENANT, tenant)
                if not await tenant_exists(conn, tenant):
                    raise typer.BadParameter(f"no tenant {tenant!r}: run `iotcloud create-tenant {tenant}`")
                await upsert_user(conn, tenant, email, password, role)
        finally:
            await conn.close()

    _run_refusing_clearly(go, db)
    print(f"user {email} ({role}) ready in tenant {tenant}")

"""The `iotcloud` command: run the system, migrate, open psql, administer tenants and users."""

from __future__ import annotations

import asyncio
import getpass
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from iotcloud.context import console, load_settings, open_db
from iotcloud.database import Database
from shared.auth import issue_token
from shared.errors import DomainError
from shared.infra.db import SET_TENANT, connect
from shared.observability.logs import configure_logging
from shared.tenants import create_tenant, principal_for_email, tenant_exists, upsert_user

app = typer.Typer(
    help="iotcloud: a self-hostable multi-tenant IoT device cloud with fleet jobs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# `iotcloud up` serves metrics here unless IOTCLOUD_METRICS_PORT or --metrics-port says otherwise.
UP_METRICS_PORT = 9464


def _setup_logging(level: str = "INFO") -> None:
    """Text lines, or one JSON object per line with IOTCLOUD_LOG_FORMAT=json (docs/operations.md)."""
    try:
        configure_logging(level, os.environ.get("IOTCLOUD_LOG_FORMAT", "text"))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.callback()
def main_options(
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar="IOTCLOUD_HOME", help="data and secrets (default ./.iotcloud)"),
    ] = None,
) -> None:
    if home is not None:
        os.environ["IOTCLOUD_HOME"] = str(home)


def _port_taken(host: str, port: int) -> str | None:
    """Why the port cannot be listened on (None: it can)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _check_port_free(what: str, host: str, port: int, how: str) -> None:
    """Says clearly which port is taken before anything starts (the service says it again if it loses a
    race for the port)."""
    why = _port_taken(host, port)
    if why is not None:
        console.print(
            f"[red]{what} port {host}:{port} is not available ({why}): another program (an "
            f"MQTT broker such as Mosquitto?) listens there. Stop it, or choose another port: "
            f"{how}.[/red]"
        )
        raise typer.Exit(2)


def _default_mqtt_port(host: str, default: int) -> None:
    """`iotcloud up` without a chosen MQTT port, on a machine where the default is taken (a Mosquitto of its
    own, often): the next free port is used and said, so that `make run` works as is. A chosen port that is
    taken stays an error."""
    if _port_taken(host, default) is None:
        return
    for port in range(default + 1, default + 20):
        if _port_taken(host, port) is None:
            console.print(
                f"[yellow]MQTT port {host}:{default} is taken (another broker?): the MQTT front listens on "
                f"{port} instead. Choose one with --mqtt-port or IOTCLOUD_MQTT_PORT.[/yellow]"
            )
            os.environ["IOTCLOUD_MQTT_PORT"] = str(port)
            return


BindOption = Annotated[
    str | None,
    typer.Option(
        "--bind",
        help="address both APIs listen on (IOTCLOUD_BIND; default 127.0.0.1, loopback only): 0.0.0.0 for "
        "every interface; IOTCLOUD_UI_HOST / IOTCLOUD_DEVICE_HOST set one API's address",
    ),
]


def _set_bind(bind: str | None) -> None:
    if bind is not None:
        os.environ["IOTCLOUD_BIND"] = bind


@app.command()
def up(
    bind: BindOption = None,
    ui_port: Annotated[
        int | None, typer.Option("--ui-port", help="operator API and console port (8000)")
    ] = None,
    device_port: Annotated[int | None, typer.Option("--device-port", help="device API port (8080)")] = None,
    mqtt_port: Annotated[
        int | None, typer.Option("--mqtt-port", help="MQTT gateway port (1883; IOTCLOUD_MQTT_PORT)")
    ] = None,
    aws_port: Annotated[
        int | None, typer.Option("--aws-port", help="AWS-compatible API port (8090; IOTCLOUD_AWS_PORT)")
    ] = None,
    jobs_tick_seconds: Annotated[float | None, typer.Option(help="job expiry tick interval (60)")] = None,
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="create the demo tenant first")] = False,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
    metrics_port: Annotated[
        int | None,
        typer.Option(help=f"Prometheus /metrics port ({UP_METRICS_PORT}; IOTCLOUD_METRICS_PORT)"),
    ] = None,
) -> None:
    """Migrate, then run the operator API, the device API, the AWS-compatible API, the MQTT gateway and the
    worker until Ctrl-C."""
    from iotcloud.runner import run_services

    _setup_logging(log_level)
    if metrics_port is not None:
        os.environ["IOTCLOUD_METRICS_PORT"] = str(metrics_port)
    os.environ.setdefault("IOTCLOUD_METRICS_PORT", str(UP_METRICS_PORT))
    _set_bind(bind)
    if ui_port is not None:
        os.environ["IOTCLOUD_UI_PORT"] = str(ui_port)
    if device_port is not None:
        os.environ["IOTCLOUD_DEVICE_PORT"] = str(device_port)
    if mqtt_port is not None:
        os.environ["IOTCLOUD_MQTT_PORT"] = str(mqtt_port)
    if aws_port is not None:
        os.environ["IOTCLOUD_AWS_PORT"] = str(aws_port)
    if jobs_tick_seconds is not None:
        os.environ["IOTCLOUD_JOBS_TICK_SECONDS"] = str(jobs_tick_seconds)
    settings = load_settings()
    if "IOTCLOUD_MQTT_PORT" not in os.environ:
        _default_mqtt_port(settings.mqtt_host, settings.mqtt_port)
        settings = load_settings()
    _check_port_free(
        "MQTT",
        settings.mqtt_host,
        settings.mqtt_port,
        "`IOTCLOUD_MQTT_PORT=1884 make run`, or `iotcloud up --mqtt-port 1884`",
    )
    db = open_db()
    try:
        demo_info = None
        if demo:
            from iotcloud.demo import ensure_demo

            demo_info = asyncio.run(ensure_demo(db.owner_url, db.app_url, settings.home))

        def announce() -> None:
            ui = f"http://localhost:{settings.ui_port}"
            dev = f"http://localhost:{settings.device_port}"
            lines = [
                "",
                "[bold green]iotcloud is up[/bold green]" + (" (embedded PostgreSQL)" if db.embedded else ""),
                f"  web console     {ui}/",
                f"  operator API    {ui}/docs",
                f"  device API      {dev}/docs",
                f"  MQTT (AWS IoT Jobs)  mqtt://localhost:{settings.mqtt_port}  (docs/mqtt.md)",
                f"  AWS API (boto3)  http://localhost:{settings.aws_port}  (docs/aws-compat.md)",
                f"  metrics         http://{settings.metrics_host}:{settings.metrics_port}/metrics",
                f"  listening on    {settings.ui_host}:{settings.ui_port} (operator API), "
                f"{settings.device_host}:{settings.device_port} (device API), "
                f"{settings.mqtt_host}:{settings.mqtt_port} (MQTT), "
                f"{settings.aws_host}:{settings.aws_port} (AWS API)",
            ]
            if demo_info:
                lines += [
                    f"  demo login      {demo_info['email']} / {demo_info['password']}",
                    f"  device tokens   {demo_info['tokens_file']}",
                ]
            lines += [
                "next steps (another terminal, after `source .venv/bin/activate`):",
                "  export TOKEN=$(iotcloud token --email admin@demo.local)",
                f'  curl -s {ui}/customer/devices -H "Authorization: Bearer $TOKEN"',
                "  iotcloud simulate --tenant demo --devices 20",
                "Ctrl-C stops everything.",
                "",
            ]
            console.print("\n".join(lines), highlight=False, soft_wrap=True)

        code = asyncio.run(run_services(settings, db.app_url, on_ready=announce))
    finally:
        db.close()
    console.print("iotcloud stopped.")
    raise typer.Exit(code)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="ui, device, aws, worker or mqtt")],
    bind: BindOption = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Run one service alone (for several processes against one database)."""
    from iotcloud.runner import run_services

    if service not in ("ui", "device", "aws", "worker", "mqtt"):
        raise typer.BadParameter("service must be ui, device, aws, worker or mqtt")
    _setup_logging(log_level)
    _set_bind(bind)
    settings = load_settings()
    db = open_db(migrate_now=False)
    try:
        code = asyncio.run(
            run_services(
                settings,
                db.app_url,
                ui=service == "ui",
                device=service == "device",
                worker=service == "worker",
                mqtt=service == "mqtt",
                aws=service == "aws",
            )
        )
    finally:
        db.close()
    raise typer.Exit(code)


@app.command()
def migrate() -> None:
    """Apply pending migrations (a second run changes nothing)."""
    _setup_logging("WARNING")
    from shared.infra.migrations import migrate as run_migrations

    db = open_db(migrate_now=False)
    try:
        applied = run_migrations(db.owner_url)
    finally:
        db.close()
    print("applied: " + ", ".join(applied) if applied else "nothing to apply: the database is up to date")


@app.command()
def backup(file: Annotated[Path, typer.Argument(help="the backup to write (pg_dump custom format)")]) -> None:
    """Back up the whole database (embedded or DATABASE_URL) into FILE: one consistent snapshot, taken while
    the services keep running."""
    from iotcloud.backup import BackupError, tools_for
    from iotcloud.backup import backup as run_backup

    _setup_logging("WARNING")
    db = open_db()
    try:
        run_backup(db.owner_url, file, tools_for(db.owner_url, db.psql, db.embedded))
    except BackupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        db.close()
    print(f"backup written to {file} ({file.stat().st_size} bytes)")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="a backup written by `iotcloud backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="replace what a database that is not empty holds")
    ] = False,
) -> None:
    """Restore FILE into the database (embedded or DATABASE_URL), which must be empty unless --force;
    then migrate, so the schema and functions are this version's. Stop the services first."""
    from iotcloud.backup import BackupError, tools_for
    from iotcloud.backup import restore as run_restore

    _setup_logging("WARNING")
    db = open_db(migrate_now=False)
    try:
        applied = run_restore(db.owner_url, file, tools_for(db.owner_url, db.psql, db.embedded), force=force)
    except BackupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        db.close()
    print(f"restored {file}" + (f"; applied migrations: {', '.join(applied)}" if applied else ""))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def psql(ctx: typer.Context) -> None:
    """A psql shell on the iotcloud database as its owner; extra arguments go to psql."""
    _setup_logging("WARNING")
    db = open_db()
    try:
        code = subprocess.call([db.psql, "-X", "-d", db.owner_url, *ctx.args])
    finally:
        db.close()
    raise typer.Exit(code)


def _run_refusing_clearly(go: Callable[[], Coroutine[Any, Any, None]], db: Database) -> None:
    """Runs an administration command; what the domain refuses is said in one line, exit code 2."""
    try:
        asyncio.run(go())
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    finally:
        db.close()


@app.command("create-tenant")
def create_tenant_cmd(
    tenant_id: Annotated[str, typer.Argument(help="lowercase id, e.g. acme")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
) -> None:
    """Create a tenant (idempotent)."""
    _setup_logging("WARNING")
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


@app.command("tenants")
def tenants_cmd() -> None:
    """List the tenants with their settings (retention)."""
    from shared.retention import tenant_settings

    _setup_logging("WARNING")
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


@app.command("set-retention")
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

    _setup_logging("WARNING")
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


@app.command("create-user")
def create_user_cmd(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    email: Annotated[str, typer.Option(help="login e-mail")],
    role: Annotated[str, typer.Option(help="admin, operator or viewer")] = "admin",
    password: Annotated[
        str | None, typer.Option(envvar="IOTCLOUD_NEW_PASSWORD", help="asked for when not given")
    ] = None,
) -> None:
    """Create an operator (or reset their password and role)."""
    _setup_logging("WARNING")
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


@app.command()
def token(
    email: Annotated[str, typer.Option(help="the operator's e-mail")],
    ttl_minutes: Annotated[
        int | None, typer.Option(help="lifetime (default IOTCLOUD_TOKEN_TTL_MINUTES)")
    ] = None,
) -> None:
    """Print a bearer token for an operator: export TOKEN=$(iotcloud token --email admin@demo.local)."""
    _setup_logging("WARNING")
    settings = load_settings()
    db = open_db()

    async def go() -> str | None:
        conn = await connect(db.owner_url)
        try:
            principal = await principal_for_email(conn, email)
        finally:
            await conn.close()
        if principal is None:
            return None
        ttl = (ttl_minutes or settings.token_ttl_minutes) * 60
        return issue_token(principal, settings.signing_secret(), ttl)

    try:
        result = asyncio.run(go())
    finally:
        db.close()
    if result is None:
        console.print(f"[red]no user {email}[/red] (try `iotcloud demo` or `iotcloud create-user`)")
        raise typer.Exit(1)
    print(result)


@app.command()
def demo(quiet: Annotated[bool, typer.Option("--quiet", help="print only the login")] = False) -> None:
    """Create (idempotently) a demo tenant with an admin, 20 devices and 2 groups."""
    from iotcloud.demo import ensure_demo

    _setup_logging("WARNING")
    settings = load_settings()
    db = open_db()
    try:
        info = asyncio.run(ensure_demo(db.owner_url, db.app_url, settings.home))
    finally:
        db.close()
    print(f"demo tenant: {info['tenant_id']}   login: {info['email']} / {info['password']}")
    if not quiet:
        print(f"device provision tokens (also in {info['tokens_file']}):")
        for device_id, tok in sorted(info["tokens"].items()):
            print(f"  {device_id}  {tok}")


from iotcloud.access_key_cmd import create_access_key  # noqa: E402 - registered after the core commands
from iotcloud.quota_cmd import set_quota  # noqa: E402
from simulator.cli import simulate  # noqa: E402

app.command("set-quota")(set_quota)
app.command("create-access-key")(create_access_key)
app.command()(simulate)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

"""The `iotcloud` command: run the system, migrate, open psql, administer tenants and users."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from iotcloud.context import console, load_settings, open_db
from iotcloud.context import setup_logging as _setup_logging
from shared.auth import issue_token
from shared.infra.db import connect
from shared.tenants import principal_for_email

app = typer.Typer(
    help="iotcloud: a self-hostable multi-tenant IoT device cloud with fleet jobs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# `iotcloud up` serves metrics here unless IOTCLOUD_METRICS_PORT or --metrics-port says otherwise.
UP_METRICS_PORT = 9464


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
from iotcloud.tenant_cmds import create_tenant_cmd, create_user_cmd, set_retention_cmd, tenants_cmd  # noqa: E402
from simulator.cli import simulate  # noqa: E402

app.command("create-tenant")(create_tenant_cmd)
app.command("tenants")(tenants_cmd)
app.command("set-retention")(set_retention_cmd)
app.command("create-user")(create_user_cmd)
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

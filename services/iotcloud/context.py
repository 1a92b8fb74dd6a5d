"""What every CLI command starts from: the settings of this home and its opened database."""

from __future__ import annotations

import os

import typer
from rich.console import Console

from iotcloud.database import Database, open_database
from shared.infra.config import Settings, get_settings
from shared.observability.logs import configure_logging

console = Console(stderr=True)


def load_settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()


def open_db(migrate_now: bool = True) -> Database:
    try:
        return open_database(load_settings(), migrate_now=migrate_now)
    except Exception as exc:
        console.print(f"[red]cannot open the database:[/red] {exc}")
        raise typer.Exit(2) from exc


def setup_logging(level: str = "INFO") -> None:
    """Text lines, or one JSON object per line with IOTCLOUD_LOG_FORMAT=json (docs/operations.md)."""
    try:
        configure_logging(level, os.environ.get("IOTCLOUD_LOG_FORMAT", "text"))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

"""Operator API and web console host (port 8000)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.artifacts.storage import DiskStorage
from shared.console_events.hub import ConsoleHub
from shared.infra.assets import console_dir
from shared.infra.config import Settings
from shared.web.service_app import build_app
from ui_iot.console import mount_console
from ui_iot.routes import (
    access_keys,
    artifacts,
    audit,
    auth,
    dashboard,
    devices,
    events,
    groups,
    job_delete,
    job_insights,
    job_templates,
    jobs,
    quotas,
    users,
)

DEFAULT_STATIC = console_dir()  # frontend/dist of the checkout, or the installed wheel's copy


@asynccontextmanager
async def _console_events(app: FastAPI) -> AsyncIterator[None]:
    """The process's LISTEN connection for the consoles' event streams, while the app serves."""
    hub: ConsoleHub = app.state.console_events
    hub.start()
    try:
        yield
    finally:
        await hub.stop()


def create_app(settings: Settings, dsn: str) -> FastAPI:
    app = build_app(
        service="ui",
        title="iotcloud operator API",
        description="Tenants' operators manage devices, groups, twins and fleet jobs.",
        settings=settings,
        dsn=dsn,
        max_body=256 * 1024,
        body_limits={
            "/customer/artifacts": settings.artifact_max_bytes,
            "/customer/devices/import": devices.IMPORT_MAX_BYTES + 64 * 1024,
        },
        background=_console_events,
    )
    # LISTEN needs a session of its own: through PgBouncer's transaction pooling, give a direct URL
    # (IOTCLOUD_LISTEN_DATABASE_URL), else consoles get no events and poll (docs/live.md)
    app.state.console_events = hub = ConsoleHub(settings.listen_database_url or dsn)
    app.state.drain = hub.drain  # streams end at once when the server stops (shared/web/service_app.py)
    app.state.secret = settings.signing_secret()
    app.state.artifacts = DiskStorage(settings.artifact_root())
    for module in (
        auth,
        dashboard,
        devices,
        groups,
        jobs,
        job_delete,
        job_insights,
        job_templates,
        audit,
        artifacts,
        quotas,
        users,
        access_keys,
        events,
    ):
        app.include_router(module.router)
    mount_console(app, settings.static_dir or DEFAULT_STATIC)
    return app

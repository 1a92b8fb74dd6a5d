"""Operator API and web console host (port 8000)."""

from __future__ import annotations

from fastapi import FastAPI

from shared.artifacts.storage import DiskStorage
from shared.infra.assets import console_dir
from shared.infra.config import Settings
from shared.web.service_app import build_app
from ui_iot.console import mount_console
from ui_iot.routes import (
    access_keys,
    artifacts,
    audit,
    auth,
    devices,
    groups,
    job_delete,
    job_templates,
    jobs,
    quotas,
    users,
)

DEFAULT_STATIC = console_dir()  # frontend/dist of the checkout, or the installed wheel's copy


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
    )
    app.state.secret = settings.signing_secret()
    app.state.artifacts = DiskStorage(settings.artifact_root())
    for module in (
        auth,
        devices,
        groups,
        jobs,
        job_delete,
        job_templates,
        audit,
        artifacts,
        quotas,
        users,
        access_keys,
    ):
        app.include_router(module.router)
    mount_console(app, settings.static_dir or DEFAULT_STATIC)
    return app

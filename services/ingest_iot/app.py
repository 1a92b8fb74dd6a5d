"""Device API (port 8080): devices authenticate with X-Provision-Token."""

from __future__ import annotations

from fastapi import FastAPI

from ingest_iot.routes import jobs, shadow
from shared.infra.config import Settings
from shared.web.ratelimit import FailureLimiter
from shared.web.service_app import build_app


def create_app(settings: Settings, dsn: str) -> FastAPI:
    app = build_app(
        service="device",
        title="iotcloud device API",
        description="Devices read their shadow, report state, and poll, claim and complete job executions.",
        settings=settings,
        dsn=dsn,
        max_body=64 * 1024,
    )
    app.state.auth_limiter = FailureLimiter(max_failures=settings.device_auth_failures_per_minute)
    app.include_router(shadow.router)
    app.include_router(jobs.hot)
    app.include_router(jobs.router)
    return app

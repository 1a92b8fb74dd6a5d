"""Device API (port 8080): devices authenticate with X-Provision-Token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ingest_iot.long_poll import LongPolls
from ingest_iot.routes import artifacts, jobs, shadow
from shared.artifacts.storage import DiskStorage
from shared.infra.config import Settings
from shared.web.service_app import ServiceApp, build_app


@asynccontextmanager
async def _long_polls(app: FastAPI) -> AsyncIterator[None]:
    """The process's LISTEN connection for long-polls, while the app serves; waiters answer at the end."""
    polls: LongPolls = app.state.long_polls
    polls.start()
    try:
        yield
    finally:
        await polls.stop()


def create_app(settings: Settings, dsn: str) -> ServiceApp:
    app = build_app(
        service="device",
        title="iotcloud device API",
        description="Devices read their shadow, report state, poll, claim and complete job executions, and "
        "download the artifacts their jobs reference.",
        settings=settings,
        dsn=dsn,
        max_body=64 * 1024,
        background=_long_polls,
    )
    # LISTEN needs a session of its own: through PgBouncer's transaction pooling, give a direct URL
    # (IOTCLOUD_LISTEN_DATABASE_URL), else notifications are lost there and long polls rely on their fallback
    listen_dsn = settings.listen_database_url or dsn
    app.state.long_polls = polls = LongPolls(
        listen_dsn, settings.poll_waiters_max, settings.poll_fallback_seconds
    )
    app.state.drain = polls.drain
    app.state.secret = (
        settings.signing_secret()
    )  # artifact URLs are signed with it (shared/artifacts/urls.py)
    app.state.artifacts = DiskStorage(settings.artifact_root())
    app.include_router(shadow.router)
    app.include_router(jobs.hot)
    app.include_router(jobs.router)
    app.include_router(artifacts.router)
    app.serve_fast(jobs.hot.routes)  # the poll and the update take the fast lane (shared/web/fast_lane.py)
    return app

"""/health (the process answers) and /ready (it can serve: PostgreSQL answers and the newest migration this
code knows is applied). /ready names what is failing, with 503, so that an orchestrator's log or a person
with curl sees why a replica is out of rotation. The worker has no HTTP port: its liveness is watched by
its tick metrics (iotcloud_tick_last_success_timestamp_seconds, deploy/prometheus/alerts.yml)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import asyncpg
from fastapi import FastAPI, Request
from pydantic import BaseModel

from shared.infra.db import DB_ERRORS
from shared.infra.migrations import MIGRATIONS_DIR
from shared.web.http import FastJSONResponse

MIGRATION_APPLIED = "SELECT iotcloud.migration_applied($1)"
CHECK_TIMEOUT = 2.0


class ReadyOut(BaseModel):
    status: Literal["ready", "unavailable"]
    database: Literal["ok", "unreachable"]
    migrations: Literal["current", "pending", "unknown"]
    failing: list[Literal["database", "migrations"]]


@lru_cache(maxsize=1)
def newest_migration() -> str:
    """The id yoyo records for the newest migration file of this checkout."""
    return max(p.stem for p in MIGRATIONS_DIR.glob("*.sql") if ".rollback" not in p.name)


async def readiness(pool: asyncpg.Pool | None) -> ReadyOut:
    database: Literal["ok", "unreachable"] = "unreachable"
    migrations: Literal["current", "pending", "unknown"] = "unknown"
    if pool is not None:
        try:
            async with pool.acquire(timeout=CHECK_TIMEOUT) as conn:
                applied = await conn.fetchval(MIGRATION_APPLIED, newest_migration(), timeout=CHECK_TIMEOUT)
            database = "ok"
            migrations = "current" if applied else "pending"
        except asyncpg.UndefinedFunctionError:  # a database the functions were never applied to
            database, migrations = "ok", "pending"
        except DB_ERRORS:
            pass
    failing: list[Literal["database", "migrations"]] = []
    if database != "ok":
        failing.append("database")
    if migrations == "pending":
        failing.append("migrations")
    status: Literal["ready", "unavailable"] = "unavailable" if failing else "ready"
    return ReadyOut(status=status, database=database, migrations=migrations, failing=failing)


def add_health_routes(app: FastAPI) -> None:
    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["health"],
        response_model=ReadyOut,
        responses={503: {"model": ReadyOut, "description": "a dependency is failing: `failing` names it"}},
    )
    async def ready(request: Request) -> FastJSONResponse:
        state = await readiness(getattr(request.app.state, "pool", None))
        return FastJSONResponse(state.model_dump(), status_code=200 if state.status == "ready" else 503)

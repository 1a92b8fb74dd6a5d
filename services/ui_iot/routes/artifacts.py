"""Artifacts (OTA files), for operators: upload, list, read (with the jobs that reference it), delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from shared import audit
from shared.artifacts import service
from shared.artifacts.service import NAME_PATTERN
from shared.web.api_models import JobStatusName
from shared.web.responses import BAD_VALUE, BEARER, CONFLICT, NOT_FOUND, UNAVAILABLE, WRITER, error
from shared.web.service_app import Now
from shared.web.validation import Limit, Offset
from ui_iot.deps import CurrentPrincipal, ReadDB, WriteTenant

router = APIRouter(prefix="/customer/artifacts", tags=["artifacts"], responses=BEARER | UNAVAILABLE)

ArtifactName = Annotated[str, Query(pattern=NAME_PATTERN, description="unique in the tenant")]
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the file's bytes, as the raw body; its Content-Type is recorded",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
UPLOAD_TOO_LARGE = error(413, "the file exceeds IOTCLOUD_ARTIFACT_MAX_BYTES: nothing was stored")
IN_USE = error(409, "a job that still runs (or has active executions) references the artifact: `jobs`")


class ArtifactOut(BaseModel):
    name: str
    sha256: str
    size: int
    content_type: str
    created_by: str | None
    created_at: datetime


class ArtifactJob(BaseModel):
    job_id: str
    status: JobStatusName
    created_at: datetime
    active: bool = Field(description="the job runs or has active executions: the artifact cannot be deleted")


class ArtifactDetail(ArtifactOut):
    jobs: list[ArtifactJob]


class ArtifactList(BaseModel):
    artifacts: list[ArtifactOut]
    total: int
    limit: int
    offset: int


@router.post(
    "",
    status_code=201,
    response_model=ArtifactOut,
    openapi_extra=UPLOAD_BODY,
    responses=WRITER | CONFLICT | UPLOAD_TOO_LARGE,
)
async def upload_artifact(
    request: Request, name: ArtifactName, tenant: WriteTenant, principal: CurrentPrincipal, now: Now
) -> dict[str, Any]:
    """Streams the raw body to the artifact storage (SHA-256 computed on the way, never held in memory
    whole), content-addressed: the same content is stored once. 409 when the name exists."""
    content_type = request.headers.get("content-type") or "application/octet-stream"
    settings = request.app.state.settings

    async def recorded(conn: asyncpg.Connection) -> None:
        details = {"content_type": content_type[:200]}
        await audit.record(conn, principal, "artifact.uploaded", "artifact", name, details, now=now)

    return await service.upload(
        tenant.pool,
        request.app.state.artifacts,
        tenant.tenant_id,
        name=name,
        content_type=content_type[:200],
        chunks=request.stream(),
        max_bytes=settings.artifact_max_bytes,
        created_by=principal.email or principal.user_id,
        now=now,
        audit=recorded,
    )


@router.get("", response_model=ArtifactList)
async def list_artifacts(db: ReadDB, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    rows, total = await service.list_artifacts(db, limit, offset)
    return {"artifacts": rows, "total": total, "limit": limit, "offset": offset}


@router.get("/{name}", response_model=ArtifactDetail, responses=BAD_VALUE | NOT_FOUND)
async def get_artifact(name: str, db: ReadDB) -> dict[str, Any]:
    return await service.get_artifact(db, name)


@router.delete("/{name}", status_code=204, responses=BAD_VALUE | WRITER | NOT_FOUND | IN_USE)
async def delete_artifact(
    name: str, request: Request, tenant: WriteTenant, principal: CurrentPrincipal, now: Now
) -> Response:
    async def recorded(conn: asyncpg.Connection) -> None:
        await audit.record(conn, principal, "artifact.deleted", "artifact", name, now=now)

    await service.delete_artifact(tenant.pool, request.app.state.artifacts, tenant.tenant_id, name, recorded)
    return Response(status_code=204)

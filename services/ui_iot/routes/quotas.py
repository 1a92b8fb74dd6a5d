"""The tenant's quotas (set with `iotcloud set-quota`), with what is used of each now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared import quotas
from shared.web.responses import BEARER, UNAVAILABLE
from ui_iot.deps import ReadDB

router = APIRouter(prefix="/customer", tags=["quotas"], responses=BEARER | UNAVAILABLE)


class Quota(BaseModel):
    limit: int | None = Field(description="null: no limit")
    used: int


class QuotasOut(BaseModel):
    devices: Quota = Field(description="ACTIVE devices (a revoked device frees its place)")
    active_jobs: Quota = Field(description="jobs IN_PROGRESS")
    executions_per_job: Quota = Field(description="executions of a job; `used`: the largest job in progress")
    artifact_bytes: Quota = Field(description="artifact storage (nothing is stored against it yet)")


@router.get("/quotas", response_model=QuotasOut)
async def get_quotas(db: ReadDB) -> dict[str, Any]:
    """Each quota's limit and current usage. A request over a quota gets 403 `quota_exceeded`."""
    return await quotas.usage(db)

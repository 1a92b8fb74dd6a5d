"""A job's insights for its page: executions by status over time, and failures grouped by reason."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared.jobs import insights
from shared.web.responses import BEARER, NOT_FOUND, UNAVAILABLE
from shared.web.service_app import Now
from ui_iot.deps import ReadDB
from ui_iot.routes.job_models import Counts

router = APIRouter(prefix="/customer", tags=["jobs"], responses=BEARER | UNAVAILABLE)

FailureStatusName = Literal["FAILED", "REJECTED", "TIMED_OUT"]
assert set(FailureStatusName.__args__) == {s.value for s in insights.FAILURE_STATUSES}  # type: ignore[attr-defined]


class StatusPoint(BaseModel):
    at: datetime
    counts: Counts


class StatusSeries(BaseModel):
    """The job's executions by status from its creation to its end (or now), rebuilt from their history."""

    job_id: str
    from_: datetime = Field(alias="from")
    to: datetime
    bucket_seconds: int = Field(description="the width of a bucket, chosen from the job's age")
    points: list[StatusPoint] = Field(
        description=f"the counts at each bucket's start, then at the end: at most {insights.MAX_POINTS + 1}"
    )


class FailureReason(BaseModel):
    status: FailureStatusName
    reason: str | None = Field(
        description="status_details.reason, else the whole status_details as JSON, else null (no details)"
    )
    count: int
    sample_device_id: str


class FailureReasons(BaseModel):
    job_id: str
    total: int = Field(description="the job's executions in the statuses asked for")
    limit: int
    reasons: list[FailureReason] = Field(description="the most frequent first")


@router.get(
    "/jobs/{job_id}/status-series",
    response_model=StatusSeries,
    response_model_by_alias=True,
    responses=NOT_FOUND,
)
async def status_series(job_id: str, db: ReadDB, now: Now) -> dict[str, Any]:
    return await insights.status_series(db, job_id, now)


@router.get("/jobs/{job_id}/failure-reasons", response_model=FailureReasons, responses=NOT_FOUND)
async def failure_reasons(
    job_id: str,
    db: ReadDB,
    status: FailureStatusName | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = insights.REASONS_LIMIT,
) -> dict[str, Any]:
    return await insights.failure_reasons(db, job_id, status, limit)

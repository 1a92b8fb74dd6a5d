"""The console's home page: the tenant's fleet and jobs at a glance (shared/dashboard.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared import dashboard
from shared.web.api_models import JobStatusName
from shared.web.responses import BEARER, UNAVAILABLE
from shared.web.service_app import Now
from ui_iot.deps import ReadDB
from ui_iot.routes.job_models import Counts

router = APIRouter(prefix="/customer/dashboard", tags=["dashboard"], responses=BEARER | UNAVAILABLE)


class DeviceCounts(BaseModel):
    total: int
    active: int
    revoked: int
    online: int = Field(description="ACTIVE devices heard from within the online window")
    offline: int = Field(description="ACTIVE devices not heard from within the online window")
    online_window_seconds: int


class ActiveJob(BaseModel):
    job_id: str
    document_type: str
    status: JobStatusName
    execution_count: int
    counts: Counts
    progress: float = Field(description="the share of its executions that reached an end (0 to 1)")
    created_at: datetime


class JobCounts(BaseModel):
    by_status: dict[str, int] = Field(description="jobs by status (every status, 0 when none)")
    active_total: int = Field(description="IN_PROGRESS and SCHEDULED jobs")
    active: list[ActiveJob] = Field(description=f"the newest {dashboard.ACTIVE_JOBS_SHOWN} active jobs")


class JobFailures(BaseModel):
    job_id: str
    failures: int


class ReasonFailures(BaseModel):
    status: str = Field(description="FAILED, TIMED_OUT or REJECTED")
    reason: str | None = Field(description="the status_details' `reason` (or `error`) the move carried")
    failures: int


class Failures(BaseModel):
    since: datetime
    total: int = Field(description="executions that moved to FAILED, TIMED_OUT or REJECTED since `since`")
    by_job: list[JobFailures] = Field(description=f"the {dashboard.FAILURE_ROWS_SHOWN} jobs with most")
    by_reason: list[ReasonFailures] = Field(description=f"the {dashboard.FAILURE_ROWS_SHOWN} commonest")


class DashboardOut(BaseModel):
    at: datetime = Field(description="the time the figures are for")
    devices: DeviceCounts
    jobs: JobCounts
    failures: Failures


@router.get("", response_model=DashboardOut)
async def get_dashboard(db: ReadDB, now: Now) -> dict[str, Any]:
    """Devices online and offline, jobs by status, the active jobs' progress, and the last hour's failures."""
    return await dashboard.dashboard(db, now)

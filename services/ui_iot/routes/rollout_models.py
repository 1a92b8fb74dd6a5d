"""Response shapes of a job's rollout, abort and schedule (GET /customer/jobs/{id})."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class RolloutPoint(BaseModel):
    at: datetime
    reached: int


class RolloutOut(BaseModel):
    reached: int = Field(description="executions the rollout has reached (devices that can see the job)")
    total: int
    rate_per_minute: int | None = Field(
        description="the current rate (exponential rates grow); null: unlimited"
    )
    window_opened_at: datetime | None = Field(description="when the current minute of the rate opened")
    stopped_at: datetime | None = Field(description="when the rollout stopped (the schedule's end)")
    history: list[RolloutPoint] = Field(description="devices reached after each release (the last 1000)")


class AbortOut(BaseModel):
    aborted: bool
    criterion: dict[str, Any] | None = Field(None, description="the abort_config criterion that was met")
    failures: int | None = None
    executed: int | None = None
    at: datetime | None = None


class WindowOut(BaseModel):
    start: datetime
    end: datetime


class ScheduleOut(BaseModel):
    start_time: datetime | None
    end_time: datetime | None
    end_behavior: str | None
    end_applied_at: datetime | None
    in_window: bool | None = Field(description="inside a maintenance window now; null: the job has none")
    next_window: WindowOut | None = Field(description="the window open now, else the next one")

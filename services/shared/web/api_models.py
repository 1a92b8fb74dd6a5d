"""Response shapes that both APIs return (one definition each, so the two specs cannot drift apart)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from shared.jobs.states import ExecutionStatus, JobStatus
from shared.web.responses import ErrorOut, error

JobStatusName = Literal["SCHEDULED", "IN_PROGRESS", "COMPLETED", "CANCELED"]
ExecutionStatusName = Literal[
    "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "CANCELED", "REMOVED"
]
assert set(JobStatusName.__args__) == {s.value for s in JobStatus}  # type: ignore[attr-defined]
assert set(ExecutionStatusName.__args__) == {s.value for s in ExecutionStatus}  # type: ignore[attr-defined]


class TwinOut(BaseModel):
    device_id: str
    desired: dict[str, Any]
    reported: dict[str, Any]
    desired_version: int
    reported_version: int
    delta: dict[str, Any]
    updated_at: datetime


class TwinConflict(ErrorOut):
    """409 on a twin update whose expected version is not the current one."""

    current: TwinOut


TWIN_CONFLICT = error(409, "the expected version is not the current one; `current` is the twin", TwinConflict)


class ExecutionOut(BaseModel):
    device_id: str
    status: ExecutionStatusName
    status_details: dict[str, Any] | None
    execution_number: int
    queued_at: datetime
    started_at: datetime | None
    last_updated_at: datetime
    retry_attempt: int = 0  # how many times retry_config has queued it again

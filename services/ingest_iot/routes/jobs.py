"""A device's job executions: poll pending work, claim it, report progress and the outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from ingest_iot.deps import CurrentDevice
from shared.api_models import ExecutionOut, ExecutionStatusName, JobStatusName
from shared.jobs import service
from shared.jobs.states import DEVICE_TARGETS, ExecutionStatus
from shared.service_app import Now
from shared.validation import json_object

router = APIRouter(prefix="/device/v1/jobs", tags=["jobs"])

DeviceTarget = Literal["IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"]
assert set(DeviceTarget.__args__) == {s.value for s in DEVICE_TARGETS}  # type: ignore[attr-defined]


class Document(BaseModel):
    type: str
    params: dict[str, Any]


class PendingJob(BaseModel):
    job_id: str
    status: ExecutionStatusName
    execution_number: int
    document: Document
    status_details: dict[str, Any] | None
    queued_at: datetime
    started_at: datetime | None
    last_updated_at: datetime
    expires_at: datetime | None


class PendingOut(BaseModel):
    jobs: list[PendingJob]


class ExecutionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: DeviceTarget
    status_details: json_object(16 * 1024) | None = None  # type: ignore[valid-type]
    expected_execution_number: int | None = Field(default=None, ge=1)


class ExecutionState(ExecutionOut):
    job_id: str


class DeviceExecution(ExecutionState):
    document: Document
    expires_at: datetime | None
    job_status: JobStatusName


@router.get("/pending", response_model=PendingOut)
async def pending(device: CurrentDevice, now: Now) -> dict[str, Any]:
    return {"jobs": await service.pending_for_device(device.conn, device.device_id, now)}


@router.get("/{job_id}/execution", response_model=DeviceExecution)
async def get_execution(job_id: str, device: CurrentDevice) -> dict[str, Any]:
    return await service.get_device_execution(device.conn, job_id, device.device_id)


@router.put(
    "/{job_id}/execution",
    response_model=ExecutionState,
    responses={409: {"description": "illegal or stale update; the body carries the current state"}},
)
async def update_execution(
    job_id: str, body: ExecutionUpdate, device: CurrentDevice, now: Now
) -> dict[str, Any]:
    return await service.device_update(
        device.conn,
        job_id,
        device.device_id,
        ExecutionStatus(body.status),
        body.status_details,
        body.expected_execution_number,
        now,
    )

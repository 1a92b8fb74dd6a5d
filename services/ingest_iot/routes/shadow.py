"""The device's own twin (shadow): read desired, report state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from ingest_iot.deps import CurrentDevice
from shared import twin
from shared.validation import json_object

router = APIRouter(prefix="/device/v1", tags=["shadow"])


class ShadowOut(BaseModel):
    device_id: str
    desired: dict[str, Any]
    reported: dict[str, Any]
    desired_version: int
    reported_version: int
    delta: dict[str, Any]
    updated_at: datetime


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reported: json_object(32 * 1024)  # type: ignore[valid-type]
    # Optimistic concurrency: when given, must equal the current reported_version (else 409).
    version: int | None = None


@router.get("/shadow", response_model=ShadowOut)
async def get_shadow(device: CurrentDevice) -> dict[str, Any]:
    return await twin.get_twin(device.conn, device.device_id)


@router.post("/shadow/reported", response_model=ShadowOut)
async def report(body: ReportIn, device: CurrentDevice) -> dict[str, Any]:
    return await twin.patch_reported(device.conn, device.device_id, body.reported, body.version)

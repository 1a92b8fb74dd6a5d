"""The device's own twin (shadow): read desired, report state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from ingest_iot.deps import CurrentDevice
from shared import twin
from shared.web.api_models import TWIN_CONFLICT, TwinOut
from shared.web.responses import DEVICE_TOKEN, TOO_LARGE, UNAVAILABLE
from shared.web.service_app import Now
from shared.web.validation import STRICT_BODY, Integer, json_object

router = APIRouter(prefix="/device/v1", tags=["shadow"], responses=DEVICE_TOKEN | UNAVAILABLE)


class ReportIn(BaseModel):
    model_config = STRICT_BODY
    reported: json_object(32 * 1024)  # type: ignore[valid-type]
    # Optimistic concurrency: when given, must equal the current reported_version (else 409).
    version: Integer | None = None


@router.get("/shadow", response_model=TwinOut)
async def get_shadow(device: CurrentDevice) -> dict[str, Any]:
    return await twin.get_twin(device.conn, device.device_id)


@router.post("/shadow/reported", response_model=TwinOut, responses=TWIN_CONFLICT | TOO_LARGE)
async def report(body: ReportIn, device: CurrentDevice, now: Now) -> dict[str, Any]:
    return await twin.patch_reported(device.conn, device.device_id, body.reported, body.version, now)

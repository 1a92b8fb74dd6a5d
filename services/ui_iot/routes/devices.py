"""Devices and their twins, for operators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared import audit, device_import, devices, twin
from shared.web.api_models import TWIN_CONFLICT, TwinOut
from shared.web.responses import (
    BAD_VALUE,
    BEARER,
    CONFLICT,
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    WRITER,
    WRITER_QUOTA,
    ErrorOut,
    error,
)
from shared.web.service_app import Now
from shared.web.validation import STRICT_BODY, Identifier, Integer, Limit, Name, Offset, json_object
from ui_iot.deps import CurrentPrincipal, ReadDB, WriteDB

router = APIRouter(prefix="/customer/devices", tags=["devices"], responses=BEARER | UNAVAILABLE)

IMPORT_MAX_BYTES = 4 * 1024 * 1024  # the CSV text (the route's body limit: ui_iot/app.py)


class DeviceCreate(BaseModel):
    model_config = STRICT_BODY
    device_id: Identifier | None = None
    name: Name = ""
    attributes: json_object(16 * 1024) = {}  # type: ignore[valid-type]


class DevicePatch(BaseModel):
    model_config = STRICT_BODY
    name: Name | None = None
    attributes: json_object(16 * 1024) | None = None  # type: ignore[valid-type]


class MqttEndpoint(BaseModel):
    """Where the device connects over MQTT (docs/mqtt.md): client id and username = thing_name, password =
    its provision token."""

    host: str
    port: int
    thing_name: str


class DeviceOut(BaseModel):
    device_id: str
    thing_name: str = Field(
        description="the device's MQTT identity, unique across tenants: tenant_id:device_id"
    )
    name: str
    attributes: dict[str, Any]
    status: Literal["ACTIVE", "REVOKED"]
    online: bool
    last_seen_at: datetime | None
    desired_version: int
    reported_version: int
    created_at: datetime
    updated_at: datetime


class DeviceDetail(DeviceOut):
    mqtt: MqttEndpoint


class DeviceWithToken(DeviceDetail):
    provision_token: str


class DeviceList(BaseModel):
    devices: list[DeviceOut]
    total: int
    limit: int
    offset: int


class TokenOut(BaseModel):
    device_id: str
    provision_token: str


class DeviceImport(BaseModel):
    """A CSV file (shared/device_import.py): a header with `device_id`, optional `name`, any other column an
    attribute; at most 10,000 devices. `dry_run` validates it and answers the devices without creating
    them."""

    model_config = STRICT_BODY
    csv: Annotated[str, Field(min_length=1, max_length=IMPORT_MAX_BYTES)]
    dry_run: bool = False


class ImportedDevice(BaseModel):
    device_id: str
    name: str
    attributes: dict[str, str]
    provision_token: str | None = Field(description="shown this once; null on a dry run")


class ImportOut(BaseModel):
    dry_run: bool
    count: int
    devices: list[ImportedDevice]


class CsvProblem(BaseModel):
    line: int | None = Field(description="the file's line (1: the header)")
    column: str | None
    message: str


class InvalidCsvOut(ErrorOut):
    errors: list[CsvProblem]


INVALID_CSV = error(
    400, "the file is refused (error `invalid_csv`): `errors` names each problem", InvalidCsvOut
)
EXISTING = error(409, "devices of the file exist already (`existing_device_ids`); nothing was created")


class TwinPatch(BaseModel):
    model_config = STRICT_BODY
    desired: json_object(32 * 1024)  # type: ignore[valid-type]
    expected_version: Integer | None = None


def mqtt_endpoint(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    settings = request.app.state.settings
    host = settings.mqtt_public_host or request.url.hostname or settings.mqtt_host
    return {"host": host, "port": settings.mqtt_port, "thing_name": row["thing_name"]}


def device_view(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {**row, "online": devices.is_online(row["status"], row.get("last_seen_at"), now)}


@router.post(
    "", status_code=201, response_model=DeviceWithToken, responses=WRITER_QUOTA | CONFLICT | TOO_LARGE
)
async def create_device(body: DeviceCreate, db: WriteDB, now: Now, request: Request) -> dict[str, Any]:
    row, token = await devices.create_device(db, body.device_id, body.name, body.attributes, now)
    return {**device_view(row, now), "provision_token": token, "mqtt": mqtt_endpoint(request, row)}


@router.post("/import", response_model=ImportOut, responses=WRITER_QUOTA | EXISTING | TOO_LARGE | INVALID_CSV)
async def import_devices(body: DeviceImport, db: WriteDB, now: Now) -> dict[str, Any]:
    """Creates every device of the CSV file in one statement, or none (any bad row: 400 naming each
    problem). Each new device's provision token is in this answer only."""
    rows = await device_import.import_devices(db, body.csv, now, dry_run=body.dry_run)
    return {"dry_run": body.dry_run, "count": len(rows), "devices": rows}


@router.get("", response_model=DeviceList, responses=BAD_VALUE)
async def list_devices(
    db: ReadDB,
    now: Now,
    q: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["ACTIVE", "REVOKED"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await devices.list_devices(db, q, status, limit, offset)
    return {"devices": [device_view(r, now) for r in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/{device_id}", response_model=DeviceDetail, responses=BAD_VALUE | NOT_FOUND)
async def get_device(device_id: str, db: ReadDB, now: Now, request: Request) -> dict[str, Any]:
    row = await devices.get_device(db, device_id)
    return {**device_view(row, now), "mqtt": mqtt_endpoint(request, row)}


@router.patch("/{device_id}", response_model=DeviceOut, responses=BAD_VALUE | WRITER | NOT_FOUND | TOO_LARGE)
async def patch_device(device_id: str, body: DevicePatch, db: WriteDB, now: Now) -> dict[str, Any]:
    return device_view(await devices.patch_device(db, device_id, body.name, body.attributes, now), now)


@router.post("/{device_id}/revoke", response_model=DeviceOut, responses=BAD_VALUE | WRITER | NOT_FOUND)
async def revoke_device(device_id: str, db: WriteDB, principal: CurrentPrincipal, now: Now) -> dict[str, Any]:
    row = await devices.revoke_device(db, device_id, now)
    await audit.record(db, principal, "device.revoked", "device", device_id, now=now)
    return device_view(row, now)


@router.post("/{device_id}/rotate-token", response_model=TokenOut, responses=BAD_VALUE | WRITER | NOT_FOUND)
async def rotate_token(device_id: str, db: WriteDB, principal: CurrentPrincipal, now: Now) -> dict[str, Any]:
    row, token = await devices.rotate_token(db, device_id, now)
    await audit.record(db, principal, "device.token_rotated", "device", device_id, now=now)
    return {"device_id": row["device_id"], "provision_token": token}


@router.get("/{device_id}/twin", response_model=TwinOut, responses=BAD_VALUE | NOT_FOUND)
async def get_twin(device_id: str, db: ReadDB) -> dict[str, Any]:
    return await twin.get_twin(db, device_id)


@router.patch(
    "/{device_id}/twin",
    response_model=TwinOut,
    responses=BAD_VALUE | WRITER | NOT_FOUND | TWIN_CONFLICT | TOO_LARGE,
)
async def patch_twin(
    device_id: str, body: TwinPatch, db: WriteDB, principal: CurrentPrincipal, now: Now
) -> dict[str, Any]:
    out = await twin.patch_desired(db, device_id, body.desired, body.expected_version, now)
    details = {"desired": body.desired, "desired_version": out["desired_version"]}
    await audit.record(db, principal, "twin.edited", "device", device_id, details, now=now)
    return out

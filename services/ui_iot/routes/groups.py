"""Device groups, for operators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from shared import groups
from shared.web.responses import BAD_VALUE, BEARER, CONFLICT, NOT_FOUND, TOO_LARGE, UNAVAILABLE, WRITER, error
from shared.web.service_app import Now
from shared.web.validation import STRICT_BODY, Identifier, Limit, Name, Offset, Text
from ui_iot.deps import ReadDB, WriteDB
from ui_iot.routes.selection_models import DeviceSelection

router = APIRouter(prefix="/customer/groups", tags=["groups"], responses=BEARER | UNAVAILABLE)
UNKNOWN_MEMBERS = error(400, "`unknown_device_ids` are not devices of the tenant (or a value is malformed)")


class GroupCreate(BaseModel):
    model_config = STRICT_BODY
    group_id: Identifier | None = None
    name: Annotated[Name, Field(min_length=1)]
    description: Text = ""


class GroupOut(BaseModel):
    group_id: str
    name: str
    description: str
    member_count: int
    created_at: datetime


class MemberOut(BaseModel):
    device_id: str
    name: str
    status: str
    last_seen_at: datetime | None
    added_at: datetime


class GroupDetail(GroupOut):
    members: list[MemberOut]


class GroupList(BaseModel):
    groups: list[GroupOut]
    total: int
    limit: int
    offset: int


class MembersAdd(DeviceSelection):
    """The devices to add: `device_ids` (at most 10,000; all must be the tenant's), or `matching`: every
    device matching the devices list's filters, added in one statement whatever their number."""


class MembersAdded(BaseModel):
    group_id: str
    added: int
    queued_executions: int = Field(
        description="executions created for the group's running continuous jobs by this change"
    )


@router.post("", status_code=201, response_model=GroupOut, responses=WRITER | CONFLICT | TOO_LARGE)
async def create_group(body: GroupCreate, db: WriteDB) -> dict[str, Any]:
    return await groups.create_group(db, body.group_id, body.name, body.description)


@router.get("", response_model=GroupList, responses=BAD_VALUE)
async def list_groups(
    db: ReadDB, q: Annotated[str | None, Query(max_length=100)] = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    rows, total = await groups.list_groups(db, q, limit, offset)
    return {"groups": rows, "total": total, "limit": limit, "offset": offset}


@router.get("/{group_id}", response_model=GroupDetail, responses=BAD_VALUE | NOT_FOUND)
async def get_group(group_id: str, db: ReadDB, limit: Limit = 500, offset: Offset = 0) -> dict[str, Any]:
    return await groups.get_group(db, group_id, limit, offset)


@router.delete("/{group_id}", status_code=204, responses=BAD_VALUE | WRITER | NOT_FOUND)
async def delete_group(group_id: str, db: WriteDB, now: Now) -> Response:
    await groups.delete_group(db, group_id, now)
    return Response(status_code=204)


@router.post(
    "/{group_id}/members",
    response_model=MembersAdded,
    responses=UNKNOWN_MEMBERS | WRITER | NOT_FOUND | TOO_LARGE,
)
async def add_members(group_id: str, body: MembersAdd, db: WriteDB, now: Now) -> dict[str, Any]:
    """Set-based; the group's running continuous jobs get an execution for each new ACTIVE member."""
    return await groups.add_selection(db, group_id, body.selection(), now)


@router.delete("/{group_id}/members/{device_id}", status_code=204, responses=BAD_VALUE | WRITER | NOT_FOUND)
async def remove_member(group_id: str, device_id: str, db: WriteDB, now: Now) -> Response:
    """The device's QUEUED executions of the group's continuous jobs become REMOVED."""
    await groups.remove_member(db, group_id, device_id, now)
    return Response(status_code=204)

"""AWS IoT's registry, as much as job targets need: things are iotcloud's devices (thingName = device_id),
thing groups its device groups (thingGroupName = group_id)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from aws_api.control.arns import (
    arn,
    check_name,
    compact,
    epoch,
    max_results,
    next_token,
    parse_arn,
    read_token,
)
from aws_api.control.context import EXISTS, NOT_FOUND, CallerDep, aws_error, parse_body, translated
from shared import audit, devices, groups

router = APIRouter(tags=["aws iot registry"])

THING_PAGE, THING_PAGE_MAX = 50, 250

# ListThingGroups: $1 a name prefix (LIKE-escaped) or NULL, $2 keyset (the last group_id) or NULL.
LIST_THING_GROUPS = """
SELECT group_id FROM device_groups
 WHERE ($1::text IS NULL OR group_id LIKE $1 || '%') AND ($2::text IS NULL OR group_id > $2)
 ORDER BY group_id
 LIMIT $3
"""

Attributes = dict[Annotated[str, Field(max_length=128)], Annotated[str, Field(max_length=800)]]


class AttributePayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    attributes: Attributes = {}
    merge: bool = False


class CreateThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thingTypeName: str | None = None
    attributePayload: AttributePayload | None = None
    billingGroupName: str | None = None


class ThingGroupProperties(BaseModel):
    model_config = ConfigDict(extra="ignore")
    thingGroupDescription: Annotated[str, Field(max_length=2028)] = ""
    attributePayload: AttributePayload | None = None


class CreateThingGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parentGroupName: str | None = None
    thingGroupProperties: ThingGroupProperties | None = None
    tags: list[dict[str, str]] | None = None


class MembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thingGroupName: str | None = None
    thingGroupArn: str | None = None
    thingName: str | None = None
    thingArn: str | None = None
    overrideDynamicGroups: bool | None = None


def _attributes(value: Any) -> dict[str, str]:
    """A device's attributes as AWS's string map (a value that is not a string as its JSON)."""
    if not isinstance(value, dict):
        return {}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def thing_view(caller: Any, device: dict[str, Any]) -> dict[str, Any]:
    return {
        "thingName": device["device_id"],
        "thingArn": arn(caller.region, caller.tenant_id, "thing", device["device_id"]),
        "attributes": _attributes(device["attributes"]),
        "version": 1,
    }


async def _active_thing(conn: Any, name: str) -> dict[str, Any]:
    """The ACTIVE device of that name (a deleted thing, a REVOKED device, is not found)."""
    with translated():
        device = await devices.get_device(conn, name)
    if device["status"] != "ACTIVE":
        raise aws_error(NOT_FOUND, f"thing {name!r} not found (its device is {device['status']})")
    return device


@router.post("/things/{thingName}")
async def create_thing(thingName: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """CreateThing: registers a device of that id. Its provision token is not part of AWS's answer: get one
    with iotcloud's API or console (rotate the device's token)."""
    body = await parse_body(request, CreateThingIn)
    name = check_name(thingName, "thingName")
    attributes = body.attributePayload.attributes if body.attributePayload else {}
    async with caller.tx(write=True) as conn:
        with translated(conflict=EXISTS):
            device, _token = await devices.create_device(conn, name, name, dict(attributes), caller.now)
    view = thing_view(caller, device)
    return {"thingName": view["thingName"], "thingArn": view["thingArn"], "thingId": name}


@router.get("/things/{thingName}")
async def describe_thing(thingName: str, caller: CallerDep) -> dict[str, Any]:
    async with caller.tx() as conn:
        device = await _active_thing(conn, thingName)
    return {**thing_view(caller, device), "thingId": thingName, "defaultClientId": thingName}


@router.get("/things")
async def list_things(request: Request, caller: CallerDep) -> dict[str, Any]:
    params = request.query_params
    for unsupported in ("attributeName", "attributeValue", "thingTypeName"):
        if params.get(unsupported) is not None:
            raise aws_error("InvalidRequestException", f"{unsupported} is not supported by iotcloud")
    limit = max_results(params.get("maxResults"), THING_PAGE, THING_PAGE_MAX)
    offset = read_token(params.get("nextToken"), "offset", int) or 0
    async with caller.tx() as conn:
        rows, total = await devices.list_devices(conn, None, "ACTIVE", limit, offset)
    more = offset + len(rows) < total
    return compact(
        things=[thing_view(caller, d) for d in rows],
        nextToken=next_token({"offset": offset + len(rows)} if more and rows else None),
    )


@router.delete("/things/{thingName}")
async def delete_thing(thingName: str, caller: CallerDep) -> dict[str, Any]:
    """DeleteThing revokes the device (iotcloud keeps a device's history): from then on it is not found
    here, it leaves its continuous jobs, and its name stays taken."""
    async with caller.tx(write=True) as conn:
        await _active_thing(conn, thingName)
        with translated():
            await devices.revoke_device(conn, thingName, caller.now)
        await audit.record(
            conn, caller.actor, "device.revoked", "device", thingName, {"via": "aws"}, now=caller.now
        )
    return {}


def group_view(caller: Any, group: dict[str, Any]) -> dict[str, Any]:
    return {
        "thingGroupName": group["group_id"],
        "thingGroupId": group["group_id"],
        "thingGroupArn": arn(caller.region, caller.tenant_id, "thinggroup", group["group_id"]),
    }


@router.post("/thing-groups/{thingGroupName}")
async def create_thing_group(thingGroupName: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    body = await parse_body(request, CreateThingGroupIn)
    name = check_name(thingGroupName, "thingGroupName")
    if body.parentGroupName is not None:
        raise aws_error(
            "InvalidRequestException", "iotcloud's groups are flat: parentGroupName is not supported"
        )
    props = body.thingGroupProperties or ThingGroupProperties()
    async with caller.tx(write=True) as conn:
        with translated(conflict=EXISTS):
            group = await groups.create_group(conn, name, name, props.thingGroupDescription)
    return group_view(caller, group)


@router.get("/thing-groups/{thingGroupName}")
async def describe_thing_group(thingGroupName: str, caller: CallerDep) -> dict[str, Any]:
    async with caller.tx() as conn:
        with translated():
            group = await groups.get_group(conn, thingGroupName, limit=1)
    return {
        **group_view(caller, group),
        "version": 1,
        "thingGroupProperties": {"thingGroupDescription": group["description"] or ""},
        "thingGroupMetadata": {"rootToParentThingGroups": [], "creationDate": epoch(group["created_at"])},
    }


def _membership(caller: Any, body: MembershipIn) -> tuple[str, str]:
    """(group_id, device_id) from names or ARNs."""
    group = body.thingGroupName
    if group is None and body.thingGroupArn is not None:
        group = parse_arn(body.thingGroupArn, caller.region, caller.tenant_id, ("thinggroup",))[1]
    thing = body.thingName
    if thing is None and body.thingArn is not None:
        thing = parse_arn(body.thingArn, caller.region, caller.tenant_id, ("thing",))[1]
    if group is None or thing is None:
        raise aws_error("InvalidRequestException", "give the thing group and the thing (name or ARN)")
    return group, thing


@router.get("/thing-groups")
async def list_thing_groups(request: Request, caller: CallerDep) -> dict[str, Any]:
    params = request.query_params
    if params.get("parentGroup") is not None:
        raise aws_error("InvalidRequestException", "iotcloud's groups are flat: parentGroup is not supported")
    prefix = params.get("namePrefixFilter")
    limit = max_results(params.get("maxResults"), THING_PAGE, THING_PAGE_MAX)
    after = read_token(params.get("nextToken"), "after", str)
    async with caller.tx() as conn:
        rows = await conn.fetch(
            LIST_THING_GROUPS, devices.escape_like(prefix) if prefix else None, after, limit + 1
        )
    names = [r["group_id"] for r in rows[:limit]]
    return compact(
        thingGroups=[
            {"groupName": n, "groupArn": arn(caller.region, caller.tenant_id, "thinggroup", n)} for n in names
        ],
        nextToken=next_token({"after": names[-1]} if len(rows) > limit else None),
    )


# ListThingGroupsForThing: the thing's groups by name, after the keyset $2 (or NULL).
GROUPS_OF_THING = """
SELECT group_id FROM device_group_members
 WHERE device_id = $1 AND ($2::text IS NULL OR group_id > $2)
 ORDER BY group_id
 LIMIT $3
"""


@router.get("/things/{thingName}/thing-groups")
async def list_thing_groups_for_thing(thingName: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    params = request.query_params
    limit = max_results(params.get("maxResults"), THING_PAGE, THING_PAGE_MAX)
    after = read_token(params.get("nextToken"), "after", str)
    async with caller.tx() as conn:
        await _active_thing(conn, thingName)
        rows = await conn.fetch(GROUPS_OF_THING, thingName, after, limit + 1)
    names = [r["group_id"] for r in rows[:limit]]
    return compact(
        thingGroups=[
            {"groupName": n, "groupArn": arn(caller.region, caller.tenant_id, "thinggroup", n)} for n in names
        ],
        nextToken=next_token({"after": names[-1]} if len(rows) > limit else None),
    )


@router.delete("/thing-groups/{thingGroupName}")
async def delete_thing_group(thingGroupName: str, caller: CallerDep) -> dict[str, Any]:
    """DeleteThingGroup: its members leave it first (their QUEUED executions of its continuous jobs become
    REMOVED). As AWS, a group that does not exist: success."""
    async with caller.tx(write=True) as conn:
        if await groups.group_exists(conn, thingGroupName):
            with translated():
                await groups.delete_group(conn, thingGroupName, caller.now)
    return {}


@router.put("/thing-groups/addThingToThingGroup")
async def add_thing_to_thing_group(request: Request, caller: CallerDep) -> dict[str, Any]:
    group, thing = _membership(caller, await parse_body(request, MembershipIn))
    async with caller.tx(write=True) as conn:
        await _active_thing(conn, thing)
        with translated():
            await groups.add_members(conn, group, [thing], caller.now)
    return {}


@router.put("/thing-groups/removeThingFromThingGroup")
async def remove_thing_from_thing_group(request: Request, caller: CallerDep) -> dict[str, Any]:
    """As AWS: removing a thing that is not a member succeeds (the group and the thing must exist)."""
    group, thing = _membership(caller, await parse_body(request, MembershipIn))
    async with caller.tx(write=True) as conn:
        with translated():
            if not await groups.group_exists(conn, group):
                raise aws_error(NOT_FOUND, f"thing group {group!r} not found")
            if not await devices.device_exists(conn, thing):
                raise aws_error(NOT_FOUND, f"thing {thing!r} not found")
            if await groups.is_member(conn, group, thing):
                await groups.remove_member(conn, group, thing, caller.now)
    return {}


@router.get("/thing-groups/{thingGroupName}/things")
async def list_things_in_thing_group(
    thingGroupName: str, request: Request, caller: CallerDep
) -> dict[str, Any]:
    params = request.query_params
    limit = max_results(params.get("maxResults"), THING_PAGE, THING_PAGE_MAX)
    offset = read_token(params.get("nextToken"), "offset", int) or 0
    async with caller.tx() as conn:
        with translated():
            group = await groups.get_group(conn, thingGroupName, limit + 1, offset)
    members = group["members"]
    return compact(
        things=[m["device_id"] for m in members[:limit]],
        nextToken=next_token({"offset": offset + limit} if len(members) > limit else None),
    )

"""AWS IoT Jobs' HTTPS data plane (boto3 `iot-jobs-data`, signing name `iot-jobs-data`):
GetPendingJobExecutions, StartNextPendingJobExecution, DescribeJobExecution, UpdateJobExecution, for the
device that signs the request.

It is the MQTT jobs API (mqtt_gateway/jobs_api.py) over HTTP: the same reads, the same moves through group
commit (iotcloud.device_moves -> iotcloud.move_executions), the same mapping of our rows to AWS's shapes
(mqtt_gateway/payloads.py), so a device may mix MQTT, HTTPS and the device API. What differs is the framing:
HTTP paths and query strings in, AWS's REST-JSON answers and errors out (`jobDocument` is a JSON string here,
as the model says). Routes are served under /jobs-data (an endpoint_url ending in /jobs-data) and at AWS's
own paths for requests signed for `iot-jobs-data` (aws_api/app.py routes them here)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from aws_api.errors import AwsError, forbidden, unrecognized_client
from aws_api.sigv4 import verify
from ingest_iot.deps import group_commit  # the app's group commit of device moves, as the device API's
from mqtt_gateway.jobs_api import Device, JobsApi, Revoked
from mqtt_gateway.topics import Request as JobsCall
from shared.jobs import device as jobs
from shared.web.http import FastJSONResponse
from shared.web.service_app import now_of

SERVICE = "iot-jobs-data"
PREFIX = "/jobs-data"
router = APIRouter(prefix=PREFIX, include_in_schema=False)

# The MQTT API's rejection codes -> AWS's HTTP errors (status, exception), as the iot-jobs-data model
# has them.
ERRORS: dict[str, tuple[int, str]] = {
    "InvalidJson": (400, "InvalidRequestException"),
    "InvalidRequest": (400, "InvalidRequestException"),
    "InvalidTopic": (400, "InvalidRequestException"),
    "ResourceNotFound": (404, "ResourceNotFoundException"),
    "InvalidStateTransition": (409, "InvalidStateTransitionException"),
    # AWS's HTTP API has no VersionMismatch exception: a stale expectedVersion is an invalid transition
    # here, with the current executionState in the body (as AWS's InvalidStateTransitionException carries)
    "VersionMismatch": (409, "InvalidStateTransitionException"),
    "TerminalStateReached": (410, "TerminalStateException"),
    "RequestThrottled": (429, "ThrottlingException"),
    "InternalError": (503, "ServiceUnavailableException"),
}


async def _device(request: Request, thing_name: str) -> Device:
    """The signing device, which must be the path's thing (an operator's key does not act for a thing)."""
    principal, token_hash = await verify(request, SERVICE)
    if principal.kind != "device" or principal.device_id is None:
        raise forbidden("The data plane is for devices: sign with the thing name and its token's SHA-256.")
    if principal.access_key_id != thing_name:
        raise forbidden(f"The signer may act only for its own thing, not {thing_name!r}.")
    # seen now (last_seen_at, written at most once per IOTCLOUD_LAST_SEEN_INTERVAL_SECONDS, as on the other
    # transports); a device revoked since the signature check is refused
    state = request.app.state
    seen = await jobs.identify(
        state.pool, token_hash, state.settings.last_seen_interval_seconds, now_of(request)
    )
    if seen is None:
        raise unrecognized_client()
    return Device(thing_name, principal.tenant_id, principal.device_id, token_hash)


def _document_as_string(body: dict[str, Any]) -> None:
    """AWS's HTTP data plane gives jobDocument as a JSON string (the MQTT API gives the object)."""
    for holder in (body, body.get("execution") or {}):
        if "jobDocument" in holder:
            holder["jobDocument"] = orjson.dumps(holder["jobDocument"]).decode()


async def _call(request: Request, thing_name: str, kind: str, job_id: str | None, payload: bytes) -> Response:
    device = await _device(request, thing_name)
    api = JobsApi(request.app.state.pool, group_commit(request), lambda: now_of(request))
    try:
        topic, body = await api.handle(device, JobsCall(kind, job_id, ""), payload)
    except Revoked:  # revoked between the signature check and the move
        raise unrecognized_client() from None
    body.pop("timestamp", None)
    body.pop("clientToken", None)
    if topic.endswith("/rejected"):
        status, code = ERRORS.get(body.get("code", ""), (400, "InvalidRequestException"))
        extra = {"executionState": body["executionState"]} if "executionState" in body else {}
        raise AwsError(status, code, body.get("message", ""), **extra)
    _document_as_string(body)
    return FastJSONResponse(body)


def _bool_param(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise AwsError(400, "InvalidRequestException", f"{name} must be true or false")
    return value == "true"


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 16:
        raise AwsError(400, "InvalidRequestException", f"{name} must be a positive integer")
    return int(value)


@router.get("/things/{thing_name}/jobs")
async def get_pending_job_executions(request: Request, thing_name: str) -> Response:
    return await _call(request, thing_name, "get", None, b"")


@router.put("/things/{thing_name}/jobs/$next")
async def start_next_pending_job_execution(request: Request, thing_name: str) -> Response:
    return await _call(request, thing_name, "start-next", None, await request.body())


@router.get("/things/{thing_name}/jobs/{job_id}")
async def describe_job_execution(request: Request, thing_name: str, job_id: str) -> Response:
    query = {
        "includeJobDocument": _bool_param(request, "includeJobDocument"),
        "executionNumber": _int_param(request, "executionNumber"),
    }
    payload = orjson.dumps({k: v for k, v in query.items() if v is not None})
    return await _call(request, thing_name, "describe", job_id, payload)


@router.post("/things/{thing_name}/jobs/{job_id}")
async def update_job_execution(request: Request, thing_name: str, job_id: str) -> Response:
    return await _call(request, thing_name, "update", job_id, await request.body())

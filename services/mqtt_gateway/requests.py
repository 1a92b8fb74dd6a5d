"""The JSON a device sends on a jobs request topic, checked field by field with AWS's types and limits.
A bad request raises BadJobsRequest with the AWS code to answer (InvalidJson, InvalidRequest); fields AWS
does not define are ignored, as AWS does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from shared.jobs.states import ExecutionStatus

MAX_DETAILS_BYTES = 16 * 1024  # as the HTTP device API's status_details
MAX_STEP_MINUTES = 7 * 24 * 60
VERSION_MAX = 2**53 - 1


class BadJobsRequest(Exception):
    def __init__(self, code: str, message: str, token: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.token = token


@dataclass(slots=True)
class JobsRequest:
    client_token: str | None = None
    status: ExecutionStatus | None = None
    status_details: dict[str, str] | None = None
    expected_version: int | None = None
    execution_number: int | None = None
    include_state: bool = False
    include_document: bool | None = None
    step_timeout: int | None = None


def client_token_of(payload: bytes) -> str | None:
    """The request's clientToken when there is one to echo, whatever else is wrong with it."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    token = body.get("clientToken") if isinstance(body, dict) else None
    return token if isinstance(token, str) and 1 <= len(token) <= 64 else None


def _int(body: dict[str, Any], name: str, low: int, high: int, token: Any) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadJobsRequest("InvalidRequest", f"{name} must be an integer from {low} to {high}", token)
    return value


def _bool(body: dict[str, Any], name: str, token: Any) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise BadJobsRequest("InvalidRequest", f"{name} must be true or false", token)
    return value


def parse(payload: bytes, kind: str) -> JobsRequest:
    try:
        body = orjson.loads(payload) if payload.strip() else {}
    except orjson.JSONDecodeError:
        raise BadJobsRequest("InvalidJson", "the payload is not valid UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise BadJobsRequest("InvalidJson", "the payload must be a JSON object")
    token = body.get("clientToken")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 64):
        raise BadJobsRequest("InvalidRequest", "clientToken must be a string of 1 to 64 characters")
    req = JobsRequest(client_token=token)
    req.execution_number = _int(body, "executionNumber", 1, VERSION_MAX, token)
    req.include_document = _bool(body, "includeJobDocument", token)
    if kind in ("update", "start-next"):
        req.step_timeout = _int(body, "stepTimeoutInMinutes", 1, MAX_STEP_MINUTES, token)
        req.status_details = _details(body.get("statusDetails"), token)
    if kind == "update":
        status = body.get("status")
        try:
            req.status = ExecutionStatus(str(status))
        except ValueError:
            raise BadJobsRequest("InvalidRequest", "status must be a job execution status", token) from None
        req.expected_version = _int(body, "expectedVersion", 1, VERSION_MAX, token)
        req.include_state = bool(_bool(body, "includeJobExecutionState", token))
        if req.step_timeout is not None and req.status != ExecutionStatus.IN_PROGRESS:
            raise BadJobsRequest("InvalidRequest", "stepTimeoutInMinutes goes with status IN_PROGRESS", token)
    return req


def _details(value: Any, token: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadJobsRequest("InvalidRequest", "statusDetails must be a map of strings to strings", token)
    if any(not k or "\x00" in k or "\x00" in v for k, v in value.items()):
        raise BadJobsRequest("InvalidRequest", "statusDetails keys must be non-empty, without NUL", token)
    if len(orjson.dumps(value)) > MAX_DETAILS_BYTES:
        raise BadJobsRequest("InvalidRequest", f"statusDetails exceeds {MAX_DETAILS_BYTES} bytes", token)
    return value

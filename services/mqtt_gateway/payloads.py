"""AWS IoT Jobs payloads (the shapes of AWS's "Jobs device MQTT API" and awsiot/iotjobs.py) built from our
rows. The mapping (docs/mqtt.md): versionNumber = our execution_number (1 when queued, +1 on every move, the
value `expectedVersion` is checked against); executionNumber = retry_attempt + 1 (AWS gives a retried
execution a new number; ours is the same row, tried again); times are epoch seconds; jobDocument is the
job's document_params as is."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

Row = Mapping[str, Any] | asyncpg.Record

# our refusal reasons (shared/jobs/device.py REFUSALS) -> AWS error codes
REFUSAL_CODES: dict[str, str] = {
    "not_found": "ResourceNotFound",
    "version_mismatch": "VersionMismatch",
    "not_allowed": "InvalidStateTransition",
    "past_deadline": "InvalidStateTransition",
    "not_reached": "InvalidStateTransition",
    "job_scheduled": "InvalidStateTransition",
    "job_expired": "TerminalStateReached",
    "job_canceled": "TerminalStateReached",
    "job_completed": "TerminalStateReached",
    "raced": "InternalError",
}


def epoch(at: datetime | None) -> int | None:
    return None if at is None else int(at.timestamp())


def now_epoch() -> int:
    return int(time.time())


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def summary(row: Row) -> dict[str, Any]:
    """JobExecutionSummary (get/accepted, notify)."""
    return _drop_none(
        {
            "jobId": row["job_id"],
            "queuedAt": epoch(row["queued_at"]),
            "startedAt": epoch(row["started_at"]),
            "lastUpdatedAt": epoch(row["last_updated_at"]),
            "versionNumber": row["execution_number"],
            "executionNumber": row["retry_attempt"] + 1,
        }
    )


def execution(row: Row, thing: str, document: Any, include_document: bool = True) -> dict[str, Any]:
    """JobExecution (start-next, {jobId}/get, notify-next)."""
    timeout_at = row.get("timeout_at")
    left = None
    if timeout_at is not None and row["status"] == "IN_PROGRESS":
        left = max(0, int(timeout_at.timestamp() - time.time()))
    return _drop_none(
        {
            "jobId": row["job_id"],
            "thingName": thing,
            "jobDocument": document if include_document else None,
            "status": row["status"],
            "statusDetails": row["status_details"],
            "queuedAt": epoch(row["queued_at"]),
            "startedAt": epoch(row["started_at"]),
            "lastUpdatedAt": epoch(row["last_updated_at"]),
            "versionNumber": row["execution_number"],
            "executionNumber": row["retry_attempt"] + 1,
            "approximateSecondsBeforeTimedOut": left,
        }
    )


def execution_state(row: Row) -> dict[str, Any]:
    """JobExecutionState (update/accepted, and a refusal's executionState)."""
    return _drop_none(
        {
            "status": row["status"],
            "statusDetails": row["status_details"],
            "versionNumber": row["execution_number"],
        }
    )


def rejected(code: str, message: str, token: Any, state: Row | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "timestamp": now_epoch()}
    if token is not None:
        body["clientToken"] = token
    if state is not None:
        body["executionState"] = execution_state(state)
    return body


def accepted(token: Any, **fields: Any) -> dict[str, Any]:
    body = {**_drop_none(fields), "timestamp": now_epoch()}
    if token is not None:
        body["clientToken"] = token
    return body


def pending_lists(rows: Sequence[Row]) -> dict[str, list[dict[str, Any]]]:
    return {
        "inProgressJobs": [summary(r) for r in rows if r["status"] == "IN_PROGRESS"],
        "queuedJobs": [summary(r) for r in rows if r["status"] == "QUEUED"],
    }


def notify(rows: Sequence[Row]) -> dict[str, Any]:
    """JobExecutionsChangedEvent: the pending list by status."""
    jobs: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        jobs.setdefault(r["status"], []).append(summary(r))
    return {"jobs": jobs, "timestamp": now_epoch()}


def notify_next(row: Row | None, thing: str) -> dict[str, Any]:
    """NextJobExecutionChangedEvent: the next execution, or none (no `execution`)."""
    if row is None:
        return {"timestamp": now_epoch()}
    return {"execution": execution(row, thing, row["document_params"]), "timestamp": now_epoch()}

"""The one definition of job and execution statuses and of who may move an execution where.

The database mirrors the status sets in CHECK constraints (db/migrations/077_iot_jobs.sql); a test checks
that both agree. Guarded SQL statements take their allowed "from" statuses from here.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


class ExecutionStatus(StrEnum):
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    REJECTED = "REJECTED"


class Actor(StrEnum):
    DEVICE = "device"
    OPERATOR = "operator"
    WORKER = "worker"


Q, IP = ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS
S, F, T, R = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.TIMED_OUT,
    ExecutionStatus.REJECTED,
)

TERMINAL: frozenset[ExecutionStatus] = frozenset({S, F, T, R})
ACTIVE: frozenset[ExecutionStatus] = frozenset({Q, IP})

# (from, to) moves each actor may make. IN_PROGRESS -> IN_PROGRESS is a progress update.
TRANSITIONS: dict[Actor, frozenset[tuple[ExecutionStatus, ExecutionStatus]]] = {
    Actor.DEVICE: frozenset({(Q, IP), (Q, R), (IP, IP), (IP, S), (IP, F), (IP, R)}),
    Actor.OPERATOR: frozenset({(Q, R)}),  # cancelling a job rejects what was never started
    # expiry times out what was never started; the in-progress timeout what was started and not finished
    Actor.WORKER: frozenset({(Q, T), (IP, T)}),
}

# Statuses a device may ask for in PUT /device/v1/jobs/{job_id}/execution.
DEVICE_TARGETS: frozenset[ExecutionStatus] = frozenset(to for _, to in TRANSITIONS[Actor.DEVICE])

# Each execution status has a counter column on the job (job_counters).
COUNTER_COLUMNS: dict[ExecutionStatus, str] = {s: s.value.lower() for s in ExecutionStatus}


def allowed_from(actor: Actor, target: ExecutionStatus) -> list[str]:
    """The statuses from which `actor` may move an execution to `target` (for `status = ANY($n)`)."""
    return sorted(frm.value for frm, to in TRANSITIONS[actor] if to == target)


def is_allowed(actor: Actor, frm: ExecutionStatus, to: ExecutionStatus) -> bool:
    return (frm, to) in TRANSITIONS[actor]


def is_terminal(status: ExecutionStatus | str) -> bool:
    return ExecutionStatus(status) in TERMINAL

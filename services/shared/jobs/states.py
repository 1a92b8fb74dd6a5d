"""The one Python definition of job and execution statuses.

Which moves are allowed, by whom and when, is defined once, in the database (iotcloud.execution_moves() in
db/functions/010_state_machine.sql), and enforced there by iotcloud.move_executions. The database's CHECK
constraints hold the same status sets; tests/integration/test_state_machine.py checks that the names here,
the CHECKs and the moves agree.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    SCHEDULED = "SCHEDULED"  # its scheduling_config's start_time has not come: it reaches no device
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
    CANCELED = "CANCELED"  # an operator canceled it (QUEUED, or IN_PROGRESS with force)
    REMOVED = "REMOVED"  # a continuous job's QUEUED execution whose device left the target


class TargetSelection(StrEnum):
    """AWS IoT Jobs' targetSelection: SNAPSHOT targets the devices of the target at creation; CONTINUOUS
    also those that join it later (a group or the fleet), and the job runs until canceled."""

    SNAPSHOT = "SNAPSHOT"
    CONTINUOUS = "CONTINUOUS"


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

C, RM = ExecutionStatus.CANCELED, ExecutionStatus.REMOVED

TERMINAL: frozenset[ExecutionStatus] = frozenset({S, F, T, R, C, RM})
ACTIVE: frozenset[ExecutionStatus] = frozenset({Q, IP})

# Statuses a device may ask for in PUT /device/v1/jobs/{job_id}/execution: the targets of the device's
# moves in iotcloud.execution_moves() (a test checks that they are the same).
DEVICE_TARGETS: frozenset[ExecutionStatus] = frozenset({IP, S, F, R})

# Each execution status has a counter column on the job (job_counters).
COUNTER_COLUMNS: dict[ExecutionStatus, str] = {s: s.value.lower() for s in ExecutionStatus}


class CancelMode(StrEnum):
    """How a CANCELED job was canceled (jobs.cancel_mode): what its sweep does with its active executions."""

    REJECT = "reject"  # DELETE /customer/jobs/{id}: QUEUED -> REJECTED
    CANCEL = "cancel"  # POST /customer/jobs/{id}/cancel (AWS CancelJob): QUEUED -> CANCELED
    FORCE = "force"  # the same with force: QUEUED and IN_PROGRESS -> CANCELED


def is_terminal(status: ExecutionStatus | str) -> bool:
    return ExecutionStatus(status) in TERMINAL

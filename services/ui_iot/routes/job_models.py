"""Request and response shapes of the operator's jobs routes (routes/jobs.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator

from shared.jobs.configs import AbortConfig, RetryConfig, RolloutConfig, SchedulingConfig
from shared.jobs.states import COUNTER_COLUMNS
from shared.web.api_models import ExecutionOut, ExecutionStatusName, JobStatusName
from shared.web.responses import (
    ErrorOut,
    error,
)
from shared.web.validation import (
    SAFE_INT_MAX,
    STRICT_BODY,
    DocumentType,
    Identifier,
    JobId,
    TemplateParameters,
    Text,
    integer,
    json_object,
)
from ui_iot.routes.rollout_models import AbortOut, RolloutOut, ScheduleOut
from ui_iot.routes.selection_models import DeviceSelection

# The spec says what the jobs service refuses with a 400: not exactly one target. `not` leaves the type
# that generated clients see alone.
_TARGETS: dict[str, dict[str, Any]] = {
    "target_device_id": {"type": "string"},
    "target_group_id": {"type": "string"},
    "target_all": {"const": True},
    "target_devices": {"type": "object"},
}
_NAMES = list(_TARGETS)
ONE_TARGET: dict[str, Any] = {
    "description": "exactly one target: target_device_id, target_group_id, target_all: true, or "
    "target_devices",
    "not": {
        "anyOf": [
            *(
                {"required": [a, b], "properties": {a: _TARGETS[a], b: _TARGETS[b]}}
                for i, a in enumerate(_NAMES)
                for b in _NAMES[i + 1 :]
            ),
            {
                "properties": {
                    "target_device_id": {"type": "null"},
                    "target_group_id": {"type": "null"},
                    "target_all": {"const": False},
                    "target_devices": {"type": "null"},
                }
            },
        ]
    },
}


# A job says its document_type, or takes it from its template: neither (absent or null) is refused, said
# with `not` as ONE_TARGET does.
NEITHER = {"properties": {"document_type": {"type": "null"}, "template_id": {"type": "null"}}}
JOB_CREATE_SCHEMA: dict[str, Any] = {
    "description": ONE_TARGET["description"] + "; document_type unless template_id gives it",
    "not": {"anyOf": [*ONE_TARGET["not"]["anyOf"], NEITHER]},
}


class JobCreate(BaseModel):
    model_config = ConfigDict(**STRICT_BODY, json_schema_extra=JOB_CREATE_SCHEMA)
    job_id: JobId | None = None
    document_type: DocumentType | None = Field(
        default=None, description="required unless template_id gives it"
    )
    document_params: json_object(32 * 1024) | None = None  # type: ignore[valid-type]
    # A job made from a template (routes/job_templates.py): its document filled with document_parameters.
    template_id: JobId | None = None
    document_parameters: TemplateParameters | None = None
    target_device_id: Identifier | None = None
    target_group_id: Identifier | None = None
    target_all: bool = False
    # A selection of devices (docs/jobs.md, "Targeting a selection of devices"): listed ids, or every device
    # matching the devices list's filters; a snapshot of its ACTIVE devices.
    target_devices: DeviceSelection | None = None
    expires_in_hours: Annotated[float | None, Field(gt=0, le=24 * 366)] = None
    # How long a device has, from claiming its execution, to finish it (AWS: inProgressTimeoutInMinutes).
    in_progress_timeout_minutes: integer(ge=1, le=7 * 24 * 60) | None = None  # type: ignore[valid-type]
    # AWS targetSelection: CONTINUOUS (a group or the fleet) also targets devices that join it later and runs
    # until canceled.
    target_selection: Literal["SNAPSHOT", "CONTINUOUS"] = "SNAPSHOT"
    # Safe rollouts (AWS: jobExecutionsRolloutConfig, abortConfig, jobExecutionsRetryConfig, schedulingConfig)
    rollout_config: RolloutConfig | None = None
    abort_config: AbortConfig | None = None
    retry_config: RetryConfig | None = None
    scheduling_config: SchedulingConfig | None = None

    @model_validator(mode="after")
    def _document_type_or_template(self) -> JobCreate:
        if self.document_type is None and self.template_id is None:
            raise ValueError("document_type is required (unless template_id gives it)")
        return self


class JobCancel(BaseModel):
    model_config = STRICT_BODY
    reason: Text | None = None


# AWS CancelJob's reasonCode: upper-case letters, digits and underscores.
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,128}$")]


class JobCancelRequest(BaseModel):
    """AWS CancelJob: with force, IN_PROGRESS executions are canceled too."""

    model_config = STRICT_BODY
    force: bool = False
    reason_code: ReasonCode | None = None
    comment: Text | None = None


class ExecutionCancelRequest(BaseModel):
    """AWS CancelJobExecution: an IN_PROGRESS execution needs force; expected_version is its
    execution_number."""

    model_config = STRICT_BODY
    force: bool = False
    expected_version: integer(ge=1, le=SAFE_INT_MAX) | None = None  # type: ignore[valid-type]


# A job's executions by status: one field per counter column (shared.jobs.states.COUNTER_COLUMNS).
Counts = create_model("Counts", **{column: (int, ...) for column in COUNTER_COLUMNS.values()})  # type: ignore[call-overload]


class Target(BaseModel):
    type: Literal["device", "group", "all", "devices"]
    id: str | None


class JobOut(BaseModel):
    job_id: str
    document_type: str
    document_params: dict[str, Any]
    target_device_id: str | None
    target_group_id: str | None
    target_all: bool
    target: Target
    target_devices: dict[str, Any] | None = Field(
        default=None,
        description='a selection target as given: {"device_count": n} (listed ids) or '
        '{"matching": {q, status}}',
    )
    target_selection: Literal["SNAPSHOT", "CONTINUOUS"]
    artifacts: list[str] = Field(
        description="the artifacts its document references (${iotcloud:artifact-url:NAME})"
    )
    status: JobStatusName
    execution_count: int
    counts: Counts  # type: ignore[valid-type]
    progress: float
    expires_at: datetime | None
    in_progress_timeout_minutes: int | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    canceled_at: datetime | None
    cancel_reason: str | None = Field(description="the cancel's reason (DELETE) or comment (cancel)")
    cancel_reason_code: str | None
    cancel_mode: Literal["reject", "cancel", "force"] | None = Field(
        description="how a CANCELED job was canceled: reject (DELETE: QUEUED -> REJECTED), cancel (QUEUED -> "
        "CANCELED) or force (QUEUED and IN_PROGRESS -> CANCELED)"
    )
    rollout_config: dict[str, Any] | None
    abort_config: dict[str, Any] | None
    retry_config: dict[str, Any] | None
    scheduling_config: dict[str, Any] | None
    rollout: RolloutOut
    abort: AbortOut | None
    schedule: ScheduleOut | None
    template_id: str | None = Field(default=None, description="the job template it was made from")


class JobDetail(JobOut):
    executions: list[ExecutionOut]
    executions_truncated: bool
    executions_limit: int


class JobList(BaseModel):
    jobs: list[JobOut]
    total: int
    limit: int
    offset: int


class ExecutionPage(BaseModel):
    job_id: str
    executions: list[ExecutionOut]
    total: int
    limit: int
    offset: int
    next_after: str | None


class EventOut(BaseModel):
    event_id: int
    from_status: ExecutionStatusName
    to_status: ExecutionStatusName
    actor: Literal["device", "operator", "worker"]
    execution_number: int
    status_details: dict[str, Any] | None
    at: datetime


class EventList(BaseModel):
    job_id: str
    device_id: str
    events: list[EventOut]
    limit: int
    next_after: int | None = Field(description="event_id to pass as `after` for the next page; null: the end")


class DeviceExecutionOut(ExecutionOut):
    job_id: str
    document_type: str
    job_status: JobStatusName


class DeviceExecutionPage(BaseModel):
    device_id: str
    executions: list[DeviceExecutionOut]
    total: int
    limit: int
    offset: int


class CancelOut(BaseModel):
    job_id: str
    status: Literal["CANCELED"]
    rejected_executions: int
    sweep_complete: bool = Field(
        description="all QUEUED executions are REJECTED (else the jobs tick finishes)"
    )


class JobCanceledOut(BaseModel):
    job_id: str
    status: Literal["CANCELED"]
    force: bool
    canceled_executions: int = Field(description="executions this call moved to CANCELED")
    sweep_complete: bool = Field(
        description="every active execution to cancel is CANCELED (else the jobs tick finishes)"
    )


class ExecutionCanceledOut(ExecutionOut):
    job_id: str
    job_completed: bool = Field(description="this cancel completed the job")


class ExecutionCancelConflict(ErrorOut):
    """409 on a cancel of one execution that its state does not allow."""

    reason: str = Field(
        description="why: not_allowed (already terminal), not_forced, version_mismatch or raced"
    )
    current: ExecutionCanceledOut


EXECUTION_CANCEL_CONFLICT = error(
    409,
    "the execution is terminal, IN_PROGRESS without force, or not at expected_version; `current` is it",
    ExecutionCancelConflict,
)

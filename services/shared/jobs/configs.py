"""A job's rollout, abort, retry and scheduling configs (AWS IoT Jobs' jobExecutionsRolloutConfig,
abortConfig, jobExecutionsRetryConfig and schedulingConfig, with snake_case names), validated as the API
accepts them. The job keeps each as given (JSON); the columns the database reads per row (retries per failure
type, the schedule's times) are derived here once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from croniter import croniter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from shared.web.validation import STRICT_BODY, integer

MAX_RATE = 1_000_000

Rate = integer(ge=1, le=MAX_RATE)


class RateIncreaseCriteria(BaseModel):
    """When the rate grows: every time this many more devices were reached (notified) or succeeded."""

    model_config = STRICT_BODY
    number_of_notified_things: integer(ge=1, le=MAX_RATE) | None = None  # type: ignore[valid-type]
    number_of_succeeded_things: integer(ge=1, le=MAX_RATE) | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _exactly_one(self) -> RateIncreaseCriteria:
        if (self.number_of_notified_things is None) == (self.number_of_succeeded_things is None):
            raise ValueError("give exactly one of number_of_notified_things or number_of_succeeded_things")
        return self


class ExponentialRate(BaseModel):
    model_config = STRICT_BODY
    base_rate_per_minute: Rate  # type: ignore[valid-type]
    increment_factor: Annotated[float, Field(ge=1.1, le=5, strict=False)]
    rate_increase_criteria: RateIncreaseCriteria


class RolloutConfig(BaseModel):
    """Devices are reached at most `maximum_per_minute` a minute; with `exponential_rate` the rate starts
    at its base and is multiplied by the factor at each criterion step, up to `maximum_per_minute`."""

    model_config = STRICT_BODY
    maximum_per_minute: Rate | None = None  # type: ignore[valid-type]
    exponential_rate: ExponentialRate | None = None

    @model_validator(mode="after")
    def _some_rate(self) -> RolloutConfig:
        if self.maximum_per_minute is None and self.exponential_rate is None:
            raise ValueError("give maximum_per_minute, exponential_rate, or both")
        if (
            self.maximum_per_minute is not None
            and self.exponential_rate is not None
            and self.exponential_rate.base_rate_per_minute > self.maximum_per_minute
        ):
            raise ValueError("exponential_rate.base_rate_per_minute must not exceed maximum_per_minute")
        return self

    @property
    def cap(self) -> int:
        return self.maximum_per_minute or MAX_RATE

    @property
    def initial_rate(self) -> int:
        return self.exponential_rate.base_rate_per_minute if self.exponential_rate else self.cap


FailureType = Literal["FAILED", "REJECTED", "TIMED_OUT", "ALL"]


class AbortCriterion(BaseModel):
    model_config = STRICT_BODY
    failure_type: FailureType
    action: Literal["CANCEL"] = "CANCEL"
    threshold_percentage: Annotated[float, Field(ge=0, le=100, strict=False)]
    min_number_of_executed_things: integer(ge=1, le=MAX_RATE)  # type: ignore[valid-type]


def _unique_types(items: list[Any]) -> list[Any]:
    types = [item.failure_type for item in items]
    if len(types) != len(set(types)):
        raise ValueError("at most one criterion per failure_type")
    return items


class AbortConfig(BaseModel):
    model_config = STRICT_BODY
    criteria_list: Annotated[
        list[AbortCriterion], Field(min_length=1, max_length=4), AfterValidator(_unique_types)
    ]


class RetryCriterion(BaseModel):
    model_config = STRICT_BODY
    failure_type: Literal["FAILED", "TIMED_OUT", "ALL"]
    number_of_retries: integer(ge=0, le=10)  # type: ignore[valid-type]


class RetryConfig(BaseModel):
    model_config = STRICT_BODY
    criteria_list: Annotated[
        list[RetryCriterion], Field(min_length=1, max_length=3), AfterValidator(_unique_types)
    ]

    def retries(self) -> tuple[int | None, int | None]:
        """Retries allowed after a FAILED and after a TIMED_OUT (a type's own criterion wins over ALL)."""
        by_type = {c.failure_type: c.number_of_retries for c in self.criteria_list}
        every = by_type.get("ALL")
        return by_type.get("FAILED", every), by_type.get("TIMED_OUT", every)


_AWS_CRON = re.compile(r"^cron\((.*)\)$")
_DOW_NUMBER = re.compile(r"\d+")


def cron_expression(value: str) -> str:
    """A maintenance window's start as a 5-field cron expression (minute hour day month weekday, UTC), or
    AWS's form `cron(minute hour day-of-month month day-of-week year)` (`?` for any, weekdays 1-7 from
    Sunday, year `*`), converted to the 5-field form."""
    text = value.strip()
    aws = _AWS_CRON.match(text)
    if aws:
        fields = aws.group(1).split()
        if len(fields) != 6:
            raise ValueError("an AWS cron(...) expression has 6 fields: minute hour day month weekday year")
        if fields[5] != "*":
            raise ValueError("the year field of a maintenance window must be *")
        dow = _DOW_NUMBER.sub(lambda m: str((int(m.group()) - 1) % 7), fields[4])
        fields = [f.replace("?", "*") for f in fields[:4]] + [dow.replace("?", "*")]
        text = " ".join(fields)
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise ValueError(f"not a cron expression: {value!r}")
    return text


CronExpression = Annotated[str, Field(max_length=200), AfterValidator(cron_expression)]


class MaintenanceWindow(BaseModel):
    model_config = STRICT_BODY
    start_time: CronExpression
    duration_in_minutes: integer(ge=1, le=1440)  # type: ignore[valid-type]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone (for example 2027-01-01T00:00:00Z)")
    return value.astimezone(UTC)


Instant = Annotated[datetime, Field(strict=False), AfterValidator(_aware)]


EndBehavior = Literal["STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL"]


class SchedulingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    start_time: Instant | None = None
    end_time: Instant | None = None
    end_behavior: EndBehavior | None = None
    maintenance_windows: Annotated[list[MaintenanceWindow], Field(max_length=16)] = []

    @model_validator(mode="after")
    def _times(self) -> SchedulingConfig:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        if self.end_behavior is not None and self.end_time is None:
            raise ValueError("end_behavior needs an end_time")
        return self

    def end_behavior_or_default(self) -> str | None:
        """What happens at end_time (AWS's default: STOP_ROLLOUT); None without an end_time."""
        if self.end_time is None:
            return None
        return self.end_behavior or "STOP_ROLLOUT"


# --- maintenance windows ---------------------------------------------------------------------------------


def window_at(windows: list[dict[str, Any]], now: datetime) -> tuple[datetime, datetime] | None:
    """The maintenance window open at `now` (start, end), if any."""
    best: tuple[datetime, datetime] | None = None
    for w in windows:
        start = croniter(w["start_time"], now + timedelta(microseconds=1)).get_prev(datetime)
        end = start + timedelta(minutes=int(w["duration_in_minutes"]))
        if start <= now < end and (best is None or end > best[1]):
            best = (start, end)
    return best


def next_window(windows: list[dict[str, Any]], now: datetime) -> tuple[datetime, datetime] | None:
    """The window open now, else the next one to open."""
    if not windows:
        return None
    current = window_at(windows, now)
    if current:
        return current
    starts = [
        (croniter(w["start_time"], now).get_next(datetime), int(w["duration_in_minutes"])) for w in windows
    ]
    start, minutes = min(starts)
    return start, start + timedelta(minutes=minutes)


# --- the four together, as a job holds them ---------------------------------------------------------------


class TemplateConfigs(BaseModel):
    """A job template's default configs (AWS CreateJobTemplate's): validated as a job's, applied to each job
    made from the template unless the job gives its own."""

    model_config = STRICT_BODY
    rollout_config: RolloutConfig | None = None
    abort_config: AbortConfig | None = None
    retry_config: RetryConfig | None = None
    scheduling_config: SchedulingConfig | None = None


class JobConfigs(BaseModel):
    model_config = ConfigDict(frozen=True)
    rollout_config: RolloutConfig | None = None
    abort_config: AbortConfig | None = None
    retry_config: RetryConfig | None = None
    scheduling_config: SchedulingConfig | None = None

    @property
    def gated(self) -> bool:
        """Whether the worker reaches the job's devices (a rollout rate, a schedule): else all at once."""
        return self.rollout_config is not None or self.scheduling_config is not None

    @classmethod
    def with_defaults(cls, given: dict[str, Any], stored: dict[str, Any]) -> JobConfigs:
        """The job's own configs (`given`: models or None), each missing one taken from a template's
        stored defaults (JSON as TemplateConfigs keeps them)."""
        defaults = TemplateConfigs.model_validate_json(orjson.dumps(stored)) if stored else TemplateConfigs()
        return cls(
            **{name: given.get(name) or getattr(defaults, name) for name in TemplateConfigs.model_fields}
        )

    def as_json(self) -> tuple[dict[str, Any] | None, ...]:
        """The four configs as stored (JSON, without unset fields), in INSERT_JOB's order."""
        return tuple(
            c.model_dump(mode="json", exclude_none=True) if c is not None else None
            for c in (self.rollout_config, self.abort_config, self.retry_config, self.scheduling_config)
        )

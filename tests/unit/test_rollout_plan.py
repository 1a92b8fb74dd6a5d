"""The rollout arithmetic and the config rules, exact: rates per minute window, exponential growth on
either criterion, maintenance windows (5-field and AWS cron), retries per failure type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.jobs.configs import (
    RetryConfig,
    RolloutConfig,
    SchedulingConfig,
    cron_expression,
    next_window,
    window_at,
)
from shared.jobs.rollout_plan import RolloutState, plan_release

T0 = datetime(2030, 1, 7, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)


def _state(ranked: int, **kw: object) -> RolloutState:
    base: dict[str, object] = dict(
        ranked=ranked, released_upto=0, rate=None, next_step=None, window_at=None, window_count=0, succeeded=0
    )
    return RolloutState(**(base | kw))  # type: ignore[arg-type]


def _run(config: RolloutConfig | None, ranked: int, times: list[datetime], **kw: object) -> list[int]:
    state, reached = _state(ranked, **kw), []
    for t in times:
        state = plan_release(config, [], state, t)
        reached.append(state.released_upto)
    return reached


def test_a_constant_rate_reaches_at_most_its_rate_per_minute_window() -> None:
    config = RolloutConfig.model_validate({"maximum_per_minute": 4})
    times = [T0, T0 + 30 * timedelta(seconds=1), T0 + MIN, T0 + MIN + timedelta(seconds=59), T0 + 2 * MIN]
    assert _run(config, 10, times) == [4, 4, 8, 8, 10]


def test_without_a_rate_everything_is_reached_at_once() -> None:
    assert _run(None, 10, [T0]) == [10]


def test_exponential_growth_on_notified_devices() -> None:
    config = RolloutConfig.model_validate(
        {"maximum_per_minute": 20, "exponential_rate": {"base_rate_per_minute": 2, "increment_factor": 1.5,
                                                        "rate_increase_criteria": {"number_of_notified_things": 2}}}
    )  # fmt: skip
    # rate 2; 2 reached (step 2) -> 3; 5 reached (step 4) -> 5; 10 reached (steps 6, 8, 10) -> 8, 12, 18;
    # 28 reached -> 27, capped at 20
    reached = _run(config, 100, [T0 + k * MIN for k in range(5)])
    assert reached == [2, 5, 10, 28, 48]


def test_exponential_growth_on_succeeded_devices_waits_for_successes() -> None:
    config = RolloutConfig.model_validate(
        {"exponential_rate": {"base_rate_per_minute": 1, "increment_factor": 2,
                              "rate_increase_criteria": {"number_of_succeeded_things": 1}}}
    )  # fmt: skip
    state = plan_release(config, [], _state(10), T0)
    state = plan_release(config, [], state, T0 + MIN)
    assert (state.released_upto, state.rate) == (2, 1)
    state = plan_release(config, [], RolloutState(**{**state.__dict__, "succeeded": 2}), T0 + 2 * MIN)
    assert (state.released_upto, state.rate) == (6, 4)  # 2 succeeded: steps 1 and 2


def test_maintenance_windows_in_both_cron_forms() -> None:
    assert cron_expression("cron(30 2 ? * 2-6 *)") == "30 2 * * 1-5"
    assert cron_expression("0 2 * * MON") == "0 2 * * MON"
    for bad in ("every day", "cron(0 2 * * MON 2031)", "0 2 * *", "61 2 * * *"):
        with pytest.raises(ValueError):
            cron_expression(bad)
    windows = [{"start_time": "0 2 * * *", "duration_in_minutes": 60}]
    assert window_at(windows, T0 + 90 * MIN) is None
    assert window_at(windows, T0 + 120 * MIN) == (T0 + 120 * MIN, T0 + 180 * MIN)
    assert window_at(windows, T0 + 180 * MIN) is None
    assert next_window(windows, T0) == (T0 + 120 * MIN, T0 + 180 * MIN)
    state = plan_release(None, windows, _state(5), T0)
    assert state.released_upto == 0
    assert plan_release(None, windows, state, T0 + 150 * MIN).released_upto == 5


def test_config_rules() -> None:
    assert RetryConfig.model_validate(
        {"criteria_list": [{"failure_type": "ALL", "number_of_retries": 3},
                           {"failure_type": "FAILED", "number_of_retries": 1}]}
    ).retries() == (1, 3)  # fmt: skip
    with pytest.raises(ValidationError, match="exceed maximum_per_minute"):
        RolloutConfig.model_validate(
            {"maximum_per_minute": 5, "exponential_rate": {"base_rate_per_minute": 10, "increment_factor": 2,
                                                           "rate_increase_criteria": {"number_of_notified_things": 1}}}
        )  # fmt: skip
    with pytest.raises(ValidationError, match="exactly one"):
        RolloutConfig.model_validate(
            {
                "exponential_rate": {
                    "base_rate_per_minute": 1,
                    "increment_factor": 2,
                    "rate_increase_criteria": {},
                }
            }
        )
    with pytest.raises(ValidationError, match="time zone"):
        SchedulingConfig.model_validate({"start_time": "2030-01-01T00:00:00"})
    with pytest.raises(ValidationError, match="needs an end_time"):
        SchedulingConfig.model_validate({"end_behavior": "CANCEL"})
    assert SchedulingConfig.model_validate(
        {"end_time": "2030-01-01T00:00:00Z"}
    ).end_behavior_or_default() == ("STOP_ROLLOUT")

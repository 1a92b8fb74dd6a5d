"""How far a rollout reaches at a given time: pure arithmetic, so that every case is exact in a unit test.

A rollout reaches devices in minute windows: the first release opens a window, and until it is a minute old
at most `rate` devices are reached in it; the next release after that opens the next window. With an
exponential rate the rate starts at its base and, each time the criterion's count (devices reached, or
devices succeeded) passes the next step, is multiplied by the increment factor (rounded up) up to
maximum_per_minute; the steps are every `number_of_..._things`. Outside every maintenance window (when the
job has some) nothing is reached. Without a rollout config, everything left is reached at once."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from shared.jobs.configs import RolloutConfig, window_at

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class RolloutState:
    ranked: int  # executions the rollout reaches, in rank order
    released_upto: int  # reached so far
    rate: int | None  # the current rate (per minute); None before the first release
    next_step: int | None  # the count at which an exponential rate grows next
    window_at: datetime | None  # when the current minute window opened
    window_count: int  # reached in the current window
    succeeded: int = 0  # executions SUCCEEDED so far (for number_of_succeeded_things)

    @classmethod
    def from_row(cls, row: Any) -> RolloutState:
        return cls(
            ranked=row["ranked"],
            released_upto=row["released_upto"],
            rate=row["rollout_rate"],
            next_step=row["rollout_next_step"],
            window_at=row["rollout_window_at"],
            window_count=row["rollout_window_count"],
            succeeded=row["succeeded"],
        )


def _grow(config: RolloutConfig, state: RolloutState) -> tuple[int, int | None]:
    """The rate and next step after the exponential criterion has been checked."""
    rate = state.rate or config.initial_rate
    growth = config.exponential_rate
    if growth is None:
        return rate, None
    criteria = growth.rate_increase_criteria
    step = criteria.number_of_notified_things or criteria.number_of_succeeded_things
    assert step is not None
    count = state.released_upto if criteria.number_of_notified_things else state.succeeded
    next_step = state.next_step or step
    while count >= next_step and rate < config.cap:
        rate = min(config.cap, math.ceil(rate * growth.increment_factor))
        next_step += step
    return rate, next_step


def plan_release(
    config: RolloutConfig | None, windows: list[dict[str, Any]], state: RolloutState, now: datetime
) -> RolloutState:
    """The rollout's state after a release at `now` (the same state when nothing is reached)."""
    left = state.ranked - state.released_upto
    if left <= 0 or (windows and window_at(windows, now) is None):
        return state
    if config is None:
        return replace(state, released_upto=state.ranked, window_at=now, window_count=left)
    rate, next_step = _grow(config, state)
    opened, count = state.window_at, state.window_count
    if opened is None or now >= opened + WINDOW:
        opened, count = now, 0
    n = max(0, min(rate - count, left))
    return replace(
        state,
        released_upto=state.released_upto + n,
        rate=rate,
        next_step=next_step,
        window_at=opened,
        window_count=count + n,
    )

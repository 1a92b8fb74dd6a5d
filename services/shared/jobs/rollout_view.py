"""What an operator sees of a job's rollout, abort and schedule (GET /customer/jobs/{id})."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.jobs.configs import next_window, window_at


def rollout_view(data: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Replaces the rollout columns of a job row by `rollout`, `abort` and `schedule`."""
    now = now or datetime.now(UTC)
    ranked = data.pop("ranked", 0)
    released = data.pop("released_upto", 0)
    total = ranked or data.get("execution_count", 0)
    data["rollout"] = {
        "reached": released if ranked else total,
        "total": total,
        "rate_per_minute": data.pop("rollout_rate", None),
        "window_opened_at": data.pop("rollout_window_at", None),
        "stopped_at": data.pop("rollout_stopped_at", None),
        "history": [{"at": at, "reached": reached} for at, reached in data.pop("rollout_log", None) or []],
    }
    state = data.pop("abort_state", None)
    data["abort"] = {"aborted": state is not None, **(state or {})} if data.get("abort_config") else None
    schedule = data.get("scheduling_config")
    end_applied_at = data.pop("end_applied_at", None)
    if schedule:
        windows = schedule.get("maintenance_windows") or []
        upcoming = next_window(windows, now) if windows else None
        data["schedule"] = {
            "start_time": schedule.get("start_time"),
            "end_time": schedule.get("end_time"),
            "end_behavior": schedule.get("end_behavior")
            or ("STOP_ROLLOUT" if schedule.get("end_time") else None),
            "end_applied_at": end_applied_at,
            "in_window": (window_at(windows, now) is not None) if windows else None,
            "next_window": {"start": upcoming[0], "end": upcoming[1]} if upcoming else None,
        }
    else:
        data["schedule"] = None
    return data

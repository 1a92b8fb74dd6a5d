"""Medians, spreads and ratios of repeated measurements."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measure:
    """Repeated values of one figure (seconds, req/s, ms ...)."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> float:
        """(max - min) / median, as a fraction."""
        if len(self.values) < 2 or not self.median:
            return 0.0
        return (max(self.values) - min(self.values)) / self.median

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "median": round(self.median, 4),
            "min": round(min(self.values), 4) if self.values else None,
            "max": round(max(self.values), 4) if self.values else None,
            "spread": round(self.spread, 3),
            "values": [round(v, 4) for v in self.values],
        }


@dataclass
class Result:
    """One row of the bench table: ours vs the floor, the ratio, and the goal."""

    scenario: str
    ours: Measure
    floor: Measure | None
    ratio: float | None  # defined per scenario so that the goal reads "ratio <= goal" or ">= goal"
    goal: str
    met: bool | None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "ours": self.ours.to_json(),
            "floor": self.floor.to_json() if self.floor else None,
            "ratio": round(self.ratio, 3) if self.ratio is not None else None,
            "goal": self.goal,
            "met": self.met,
            "note": self.note,
            "extra": self.extra,
        }


async def timed(fn: Callable[..., Awaitable[Any]], *args: Any) -> tuple[float, Any]:
    """(seconds, result) of awaiting fn(*args)."""
    t0 = time.perf_counter()
    out = await fn(*args)
    return time.perf_counter() - t0, out


def ratio(a: Measure, b: Measure) -> float:
    return a.median / b.median if b.median else float("inf")

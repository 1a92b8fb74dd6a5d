"""What the fleet simulator counts: polls, execution updates, errors by code, latency samples."""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Reservoir:
    """A uniform sample of at most `size` values (Vitter's algorithm R), so memory stays bounded."""

    size: int = 50_000
    seen: int = 0
    values: list[float] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
            return
        slot = self.rng.randrange(self.seen)
        if slot < self.size:
            self.values[slot] = value

    def summary(self) -> dict[str, float]:
        """Milliseconds: p50, p90, p99, max over the sample."""
        ordered = sorted(self.values)
        return {
            "p50_ms": round(percentile(ordered, 50) * 1000, 2),
            "p90_ms": round(percentile(ordered, 90) * 1000, 2),
            "p99_ms": round(percentile(ordered, 99) * 1000, 2),
            "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2),
        }


@dataclass
class SimStats:
    started: float = field(default_factory=time.monotonic)
    polls: int = 0
    jobs_seen: int = 0
    updates: Counter[str] = field(default_factory=Counter)  # target status -> accepted updates
    starts: int = 0  # executions handed over IN_PROGRESS by start-next (the start-next flow's claims)
    finished: Counter[str] = field(default_factory=Counter)  # terminal status reached -> executions
    conflicts: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # HTTP status or exception name -> count
    server_errors: int = 0
    latency: dict[str, Reservoir] = field(
        default_factory=lambda: {"poll": Reservoir(), "update": Reservoir()}
    )
    last_work: float = field(default_factory=time.monotonic)

    def request(self, kind: str, seconds: float, status: int | None, error: str | None = None) -> None:
        """Records one request: its latency, and an error code when it failed."""
        reservoir = self.latency.get(kind)
        if reservoir is None:
            reservoir = self.latency[kind] = Reservoir()
        reservoir.add(seconds)
        if error is not None:
            self.errors[error] += 1
        elif status is not None and status >= 400:
            self.errors[str(status)] += 1
            if status >= 500:
                self.server_errors += 1

    def work(self) -> None:
        self.last_work = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def transitions(self) -> int:
        return sum(self.updates.values()) + self.starts

    def summary(self) -> dict[str, Any]:
        elapsed = self.elapsed
        return {
            "elapsed_s": round(elapsed, 3),
            "polls": self.polls,
            "jobs_seen": self.jobs_seen,
            "transitions": self.transitions,
            "transitions_per_s": round(self.transitions / elapsed, 1) if elapsed > 0 else 0.0,
            "updates_by_status": dict(sorted(self.updates.items())),
            "starts": self.starts,
            "finished_by_status": dict(sorted(self.finished.items())),
            "conflicts": self.conflicts,
            "errors_by_code": dict(sorted(self.errors.items())),
            "server_errors": self.server_errors,
            "latency": {kind: r.summary() for kind, r in self.latency.items()},
        }

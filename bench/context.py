"""What every scenario gets: the database, the sizes of this run (quick or full), and a logger."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from bench.env import BenchDB


@dataclass(frozen=True)
class Sizes:
    devices: int  # bench tenant devices (B1 group, B2 tokens, B3 executions come from these)
    fanout_group: int
    fanout_fleet: int | None  # B1 second case: a fleet of this size, targeted with target_all
    poll_tokens: int
    poll_seconds: float
    transitions: int
    expiry: int
    reads_big: int
    reads_small: int
    reps: int = 3


QUICK = Sizes(
    devices=10_000, fanout_group=10_000, fanout_fleet=None, poll_tokens=10_000, poll_seconds=4,
    transitions=1_000, expiry=100_000, reads_big=200_000, reads_small=10_000,
)  # fmt: skip
FULL = Sizes(
    devices=100_000, fanout_group=100_000, fanout_fleet=1_000_000, poll_tokens=10_000, poll_seconds=15,
    transitions=10_000, expiry=1_000_000, reads_big=1_000_000, reads_small=10_000,
)  # fmt: skip


@dataclass
class Ctx:
    db: BenchDB
    sizes: Sizes
    quick: bool
    wrk: str | None
    started: float = field(default_factory=time.monotonic)

    def log(self, msg: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {msg}", file=sys.stderr, flush=True)

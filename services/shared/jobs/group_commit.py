"""Group commit of device moves (shared/infra/batching.py): concurrent execution updates of many devices go to
PostgreSQL as one statement, iotcloud.device_moves (db/functions/030_device_calls.sql), which runs them
through iotcloud.apply_moves, tenant by tenant, in one transaction and one commit. Each caller gets its own
row back (moved, or refused with its reason and the current state) only after that commit.

One statement in flight measured best on 2 cores (B3 quick: 0.40x of the floor with 1, 0.35x with 2, 0.36x
with 4): the bigger the batches, the less each update costs, and two statements moving executions of the
same job wait on each other's counter rows anyway.

A start-next (job_id None) is a move like the others, of the execution the statement finds next for the
device (iotcloud.device_moves): the read and the claim share the batch's one statement and commit. A
device's second request waits for the next batch (its start-next may find the very execution its update
names), so each device is decided once per statement and in arrival order."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.infra.batching import StatementBatcher
from shared.infra.config import Settings
from shared.jobs import queries as q
from shared.observability import metrics


@dataclass(slots=True)
class MoveRequest:
    token_hash: str
    job_id: str | None  # None: the device's next pending execution (start-next)
    target: str
    details: dict[str, Any] | None
    expected: int | None
    now: datetime
    step_timeout_minutes: int | None = None


class GroupCommit(StatementBatcher[MoveRequest, asyncpg.Record]):
    name = "device move"

    def __init__(
        self, pool: asyncpg.Pool, seen_interval: int, *, max_batch: int = 512, max_in_flight: int = 1
    ) -> None:
        super().__init__(pool, max_batch=max_batch, max_in_flight=max_in_flight)
        self.seen_interval = seen_interval

    @classmethod
    def of(cls, pool: asyncpg.Pool, settings: Settings) -> GroupCommit:
        """As the settings say (IOTCLOUD_DEVICE_BATCHES_IN_FLIGHT, IOTCLOUD_DEVICE_BATCH_MAX)."""
        return cls(
            pool,
            settings.last_seen_interval_seconds,
            max_batch=settings.device_batch_max,
            max_in_flight=settings.device_batches_in_flight,
        )

    @property
    def moves(self) -> int:
        return self.requests

    async def move(self, request: MoveRequest) -> asyncpg.Record:
        """The request's row of iotcloud.device_move, once the statement that decided it has committed."""
        return await self.submit(request)

    def key(self, request: MoveRequest) -> Hashable:
        return request.token_hash

    async def run(self, conn: asyncpg.Connection, requests: Sequence[MoveRequest]) -> list[asyncpg.Record]:
        rows = await conn.fetch(
            q.DEVICE_MOVES,
            self.seen_interval,
            max(r.now for r in requests),
            [r.token_hash for r in requests],
            [r.job_id for r in requests],
            [r.target for r in requests],
            [r.details for r in requests],
            [r.expected for r in requests],
            [r.step_timeout_minutes for r in requests],
        )
        metrics.GROUP_COMMIT_BATCH.observe(len(requests))
        by_ord = {row["ord"]: row for row in rows}
        answers = [by_ord[i] for i in range(1, len(requests) + 1)]
        for request, row in zip(requests, answers, strict=True):
            metrics.count_device_outcomes("update" if request.job_id else "start-next", (row["outcome"],))
        return answers

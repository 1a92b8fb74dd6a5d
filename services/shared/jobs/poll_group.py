"""Group read of device polls (shared/infra/batching.py): the polls that arrive while a statement is running
leave together in the next one, iotcloud.device_polls (db/functions/030_device_calls.sql), which
authenticates them all, refreshes their last_seen_at, and reads each device's pending work under its
tenant. A poll costs PostgreSQL a share of one statement, and the device API one connection checkout per
batch instead of one per poll (docs/performance.md, "Group read")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.infra.batching import StatementBatcher
from shared.infra.config import Settings
from shared.jobs import queries as q

# A device's pending executions, in its order; None when its token is unknown or revoked.
Pending = list[asyncpg.Record] | None


@dataclass(slots=True)
class PollRequest:
    token_hash: str
    now: datetime


class PollGroup(StatementBatcher[PollRequest, Pending]):
    name = "device poll"

    def __init__(
        self, pool: asyncpg.Pool, seen_interval: int, *, limit: int = 100, max_batch: int, max_in_flight: int
    ) -> None:
        super().__init__(pool, max_batch=max_batch, max_in_flight=max_in_flight)
        self.seen_interval = seen_interval
        self.limit = limit

    @classmethod
    def of(cls, pool: asyncpg.Pool, settings: Settings) -> PollGroup:
        """As the settings say (IOTCLOUD_DEVICE_POLL_BATCHES_IN_FLIGHT, IOTCLOUD_DEVICE_BATCH_MAX)."""
        return cls(
            pool,
            settings.last_seen_interval_seconds,
            max_batch=settings.device_batch_max,
            max_in_flight=settings.device_poll_batches_in_flight,
        )

    async def poll(self, token_hash: str, now: datetime) -> Pending:
        return await self.submit(PollRequest(token_hash, now))

    async def run(self, conn: asyncpg.Connection, requests: Sequence[PollRequest]) -> list[Pending]:
        rows = await conn.fetch(
            q.DEVICE_POLLS,
            [r.token_hash for r in requests],
            [r.now for r in requests],
            self.seen_interval,
            self.limit,
        )
        answers: list[Pending] = [None] * len(requests)
        for row in rows:  # each device's rows come together, in its order
            pending = answers[row["ord"] - 1]
            if pending is None:
                pending = answers[row["ord"] - 1] = []
            if row["job_id"] is not None:
                pending.append(row)
        return answers

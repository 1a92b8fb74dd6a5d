"""Group commit of device moves (as River's batch completer): concurrent execution updates of many devices
go to PostgreSQL as one statement, iotcloud.device_moves (db/functions/030_device_calls.sql), which runs
them through iotcloud.move_executions, tenant by tenant, in one transaction and one commit. Each caller gets
its own row back (moved, or refused with its reason and the current state) only after that commit.

The window adapts by itself: a request that finds a free flush slot goes at once (a lone device waits no
longer than with one statement per request); requests that arrive while `max_in_flight` flushes are running
wait and leave together in the next one. One slot measured best on 2 cores (B3 quick: 0.40x of the floor
with 1, 0.35x with 2, 0.36x with 4): the bigger the batches, the less each update costs.

A device's second update of the same execution waits for the next batch, so each (device, job) is decided
once per statement and in arrival order. A batch that loses a lock race is retried whole (nothing of it was
committed); a batch that fails for another reason is split, so one bad request fails alone."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.infra.db import DB_UNAVAILABLE, TX_CONFLICTS
from shared.jobs import queries as q
from shared.observability import metrics

log = logging.getLogger("iotcloud.jobs.group_commit")


@dataclass(slots=True)
class MoveRequest:
    token_hash: str
    job_id: str
    target: str
    details: dict[str, Any] | None
    expected: int | None
    now: datetime
    step_timeout_minutes: int | None = None


_Waiting = tuple[MoveRequest, "asyncio.Future[asyncpg.Record]"]


class GroupCommit:
    def __init__(
        self, pool: asyncpg.Pool, seen_interval: int, *, max_batch: int = 512, max_in_flight: int = 1
    ) -> None:
        self.pool = pool
        self.seen_interval = seen_interval
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._waiting: deque[_Waiting] = deque()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # statements sent, for tests and the bench
        self.moves = 0

    async def move(self, request: MoveRequest) -> asyncpg.Record:
        """The request's row of iotcloud.move_result, once the statement that decided it has committed."""
        future: asyncio.Future[asyncpg.Record] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        self._start_flushes()
        return await future

    def _start_flushes(self) -> None:
        while self._waiting and self._in_flight < self.max_in_flight:
            batch = self._take()
            self._in_flight += 1
            task = asyncio.create_task(self._flush(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[_Waiting]:
        """Up to max_batch waiting requests, each (device, job) once; later ones keep their place."""
        batch: list[_Waiting] = []
        later: list[_Waiting] = []
        keys: set[tuple[str, str]] = set()
        while self._waiting and len(batch) < self.max_batch:
            item = self._waiting.popleft()
            key = (item[0].token_hash, item[0].job_id)
            (later if key in keys else batch).append(item)
            keys.add(key)
        self._waiting.extendleft(reversed(later))
        return batch

    async def _flush(self, batch: list[_Waiting]) -> None:
        try:
            rows = await self._decide(batch)
            for (_, future), row in zip(batch, rows, strict=True):
                if not future.done():
                    future.set_result(row)
        except BaseException as exc:  # every caller of the batch hears of it (503 for an outage)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._in_flight -= 1
            self._start_flushes()

    async def _decide(self, batch: list[_Waiting]) -> list[asyncpg.Record]:
        for attempt in range(5):
            try:
                return await self._run([r for r, _ in batch])
            except TX_CONFLICTS:
                if attempt == 4:
                    raise
                log.info("a batch of %d device moves lost a lock race; retried", len(batch))
            except DB_UNAVAILABLE:
                raise
            except Exception:
                if len(batch) == 1:
                    raise
                log.warning("a batch of %d device moves failed; deciding them one by one", len(batch))
                return [await self._decide_alone(item) for item in batch]
        raise AssertionError("unreachable")

    async def _decide_alone(self, item: _Waiting) -> Any:
        try:
            return (await self._decide([item]))[0]
        except Exception as exc:
            item[1].set_exception(exc)
            return None

    async def _run(self, requests: list[MoveRequest]) -> list[asyncpg.Record]:
        rows = await self.pool.fetch(
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
        self.batches += 1
        self.moves += len(requests)
        metrics.GROUP_COMMIT_BATCH.observe(len(requests))
        metrics.count_device_outcomes("update", (row["outcome"] for row in rows))
        by_ord = {row["ord"]: row for row in rows}
        return [by_ord[i] for i in range(1, len(requests) + 1)]

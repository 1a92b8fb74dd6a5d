"""Group commit, as River's batch completer does it: requests that arrive while a statement is running wait,
and leave together in the next one; each caller gets its own answer once that statement has returned (and,
for a write, committed).

The window adapts by itself: a request that finds a free slot (fewer than `max_in_flight` statements
running) goes at once, so a lone request on a quiet system waits no longer than with one statement per
request; under load, the statements grow with the load.

A flush takes one connection and keeps it while requests keep arriving: it answers a batch's callers and
sends the next batch at once, so PostgreSQL works on the next statement while the server answers the last
one's callers, and no caller waits for asyncpg's release (a task and a turn or two of a busy event loop,
docs/performance.md, "Group read").

A subclass says how a batch becomes a statement (`run`) and which requests may not share one (`key`: two
requests with the same key go in different statements, in arrival order). A batch that loses a lock race
is retried whole (nothing of it was committed); a batch that fails for another reason is split, so one
bad request fails alone; an outage reaches every caller of the batch (the services answer 503)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar, cast

import asyncpg

from shared.infra.db import DB_UNAVAILABLE, TX_CONFLICTS

log = logging.getLogger("iotcloud.batching")

R = TypeVar("R")  # a request
A = TypeVar("A")  # its answer

RETRIES = 5


class StatementBatcher(Generic[R, A]):
    name = "request"  # for the log

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int, max_in_flight: int) -> None:
        self.pool = pool
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._waiting: deque[tuple[R, asyncio.Future[A]]] = deque()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # statements sent, for tests and the bench
        self.requests = 0

    async def run(self, conn: asyncpg.Connection, requests: Sequence[R]) -> list[A]:
        """One statement for `requests`: one answer per request, in their order."""
        raise NotImplementedError

    def key(self, request: R) -> Hashable | None:
        """Requests with the same (non-None) key are never in the same statement."""
        return None

    async def submit(self, request: R) -> A:
        """The request's answer, once the statement that decided it has returned."""
        future: asyncio.Future[A] = asyncio.get_running_loop().create_future()
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

    def _take(self) -> list[tuple[R, asyncio.Future[A]]]:
        """Up to max_batch waiting requests, each key once; later ones keep their place."""
        batch: list[tuple[R, asyncio.Future[A]]] = []
        later: list[tuple[R, asyncio.Future[A]]] = []
        keys: set[Hashable] = set()
        while self._waiting and len(batch) < self.max_batch:
            item = self._waiting.popleft()
            key = self.key(item[0])
            if key is None:
                batch.append(item)
                continue
            (later if key in keys else batch).append(item)
            keys.add(key)
        self._waiting.extendleft(reversed(later))
        return batch

    async def _flush(self, batch: list[tuple[R, asyncio.Future[A]]]) -> None:
        """Runs `batch`, then, on the same connection, whatever arrived meanwhile, until nothing waits: the
        next statement is on its way to PostgreSQL before the callers just answered have even resumed."""
        try:
            async with self.pool.acquire() as conn:
                while batch:
                    answers = await self._decide(cast(asyncpg.Connection, conn), batch)
                    for (_, future), answer in zip(batch, answers, strict=True):
                        if not future.done():
                            future.set_result(answer)
                    batch = self._take()
        except BaseException as exc:  # every caller of the batch hears of it (503 for an outage)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._in_flight -= 1
            self._start_flushes()

    async def _decide(self, conn: asyncpg.Connection, batch: list[tuple[R, asyncio.Future[A]]]) -> list[A]:
        for attempt in range(RETRIES):
            try:
                answers = await self.run(conn, [r for r, _ in batch])
                self.batches += 1
                self.requests += len(batch)
                return answers
            except TX_CONFLICTS:
                if attempt == RETRIES - 1:
                    raise
                log.info("a batch of %d %ss lost a lock race; retried", len(batch), self.name)
            except DB_UNAVAILABLE:
                raise
            except Exception:
                if len(batch) == 1:
                    raise
                log.warning("a batch of %d %ss failed; deciding them one by one", len(batch), self.name)
                return [await self._decide_alone(conn, item) for item in batch]
        raise AssertionError("unreachable")

    async def _decide_alone(self, conn: asyncpg.Connection, item: tuple[R, asyncio.Future[A]]) -> A:
        try:
            return (await self._decide(conn, [item]))[0]
        except DB_UNAVAILABLE:
            raise
        except Exception as exc:
            item[1].set_exception(exc)
            return None  # type: ignore[return-value]  # its caller has its exception; _flush skips it

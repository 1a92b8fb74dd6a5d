"""The metrics endpoint of a process: GET /metrics on its own port (IOTCLOUD_METRICS_PORT), never on the
device API's. Before each scrape it refreshes what is read rather than counted: every watched pool's
connections (open, in use, waiting), whether PostgreSQL answers, and, in a process that runs the worker,
the jobs by status (one cheap grouped count, iotcloud.jobs_by_status)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import Receive, Scope, Send

from shared.infra.db import DB_ERRORS, ping
from shared.jobs import queries as q
from shared.jobs.states import JobStatus
from shared.observability import metrics

log = logging.getLogger("iotcloud.metrics")

SCRAPE_QUERY_TIMEOUT = 2.0


def pool_stats(pool: asyncpg.Pool) -> tuple[int, int, int, int]:
    """(open, in use, waiting, max) of an asyncpg pool. asyncpg tells the open and the maximum; a
    connection is in use while its holder is out of the pool's queue, and callers waiting for one are that
    queue's pending getters (asyncio.Queue's own bookkeeping)."""
    queue: Any = getattr(pool, "_queue", None)
    max_size = pool.get_max_size()
    if queue is None:  # closed or not started
        return 0, 0, 0, max_size
    in_use = max_size - queue.qsize()
    waiting = sum(1 for f in getattr(queue, "_getters", ()) if not f.done())
    return pool.get_size(), in_use, waiting, max_size


class Exporter:
    """Process-wide, like the registry: services register their pool when they start. A process runs each
    service once; should it start a second app of a service (tests do), the newest pool is the one read,
    until it is forgotten."""

    def __init__(self) -> None:
        self.pools: dict[str, list[asyncpg.Pool]] = {}
        self.jobs_pools: list[asyncpg.Pool] = []

    def watch_pool(self, service: str, pool: asyncpg.Pool, *, jobs: bool = False) -> None:
        self.pools.setdefault(service, []).append(pool)
        if jobs:
            self.jobs_pools.append(pool)

    def forget_pool(self, service: str, pool: asyncpg.Pool) -> None:
        watched = self.pools.get(service, [])
        self.pools[service] = [p for p in watched if p is not pool]
        self.jobs_pools = [p for p in self.jobs_pools if p is not pool]

    async def refresh(self) -> None:
        for service, pools in list(self.pools.items()):
            if not pools:
                continue
            pool = pools[-1]
            size, in_use, waiting, max_size = pool_stats(pool)
            metrics.POOL_SIZE.labels(service).set(size)
            metrics.POOL_IN_USE.labels(service).set(in_use)
            metrics.POOL_WAITING.labels(service).set(waiting)
            metrics.POOL_MAX.labels(service).set(max_size)
            metrics.DB_UP.labels(service).set(1 if await ping(pool, SCRAPE_QUERY_TIMEOUT) else 0)
        if self.jobs_pools:
            await self._count_jobs(self.jobs_pools[-1])

    async def _count_jobs(self, pool: asyncpg.Pool) -> None:
        try:
            rows = await pool.fetch(q.JOBS_BY_STATUS, timeout=SCRAPE_QUERY_TIMEOUT)
        except DB_ERRORS as exc:  # the gauge keeps its last values; iotcloud_db_up says why
            log.warning("jobs by status not read: %s", type(exc).__name__)
            return
        seen = {r["status"]: r["n"] for r in rows}
        for status in JobStatus:
            metrics.JOBS.labels(status.value).set(seen.get(status.value, 0))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app of the metrics port: /metrics, and 404 for anything else."""
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        if scope["path"] != "/metrics" or scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 404, b"text/plain", b"metrics are at /metrics\n")
            return
        try:
            await asyncio.wait_for(self.refresh(), timeout=SCRAPE_QUERY_TIMEOUT * 3)
        except TimeoutError:
            log.warning("metrics refresh timed out; serving the last values")
        body = generate_latest(REGISTRY)
        await _answer(send, 200, CONTENT_TYPE_LATEST.encode(), body if scope["method"] == "GET" else b"")


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


EXPORTER = Exporter()

"""One LISTEN connection per process and channel: the jobs channel (shared/jobs/notify.py, JobListener) for
the device API and the MQTT gateway, the console channel (shared/console_events/) for the operator API. A
dedicated asyncpg connection (not the pool's: a pooled connection's LISTEN would end with its session), kept
open by a background task that reconnects with backoff when it drops, and checks it now and then (a silent
network loss is found by the check, a terminated backend at once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import asyncpg

from shared.infra.db import DB_ERRORS
from shared.jobs.notify import CHANNEL, JobNotice
from shared.observability import metrics

if TYPE_CHECKING:
    from prometheus_client import Gauge

log = logging.getLogger("iotcloud.jobs.listener")

BACKOFF_FIRST = 0.2  # seconds before the first reconnection attempt, doubled up to BACKOFF_MAX
BACKOFF_MAX = 5.0
CHECK_EVERY = 15.0  # seconds between checks of a quiet connection
CHECK_TIMEOUT = 5.0


class ChannelListener:
    """Calls `on_payload` with each notification's payload on `channel`, and `on_connected` each time the
    connection is (re)established (what was sent while it was down is lost: the caller re-checks what it
    waits for). `gauge` counts the connections up."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        on_payload: Callable[[str], None],
        on_connected: Callable[[], None] = lambda: None,
        *,
        name: str,
        gauge: Gauge | None = None,
    ) -> None:
        self.dsn = dsn
        self.channel = channel
        self.on_payload = on_payload
        self.on_connected = on_connected
        self.name = name  # for logs and the task's name
        self.gauge = gauge
        self.connects = 0  # connections established so far (the first one included)
        self.connected = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def backend_pid(self) -> int | None:
        conn = self._conn
        return conn.get_server_pid() if conn is not None and not conn.is_closed() else None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"iotcloud-{self.name}-listener")

    async def stop(self) -> None:
        self.connected.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(*DB_ERRORS):
                await asyncio.wait_for(conn.close(), CHECK_TIMEOUT)

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        if isinstance(payload, str):
            self.on_payload(payload)

    async def _run(self) -> None:
        backoff = BACKOFF_FIRST
        while True:
            lost = asyncio.Event()
            try:
                conn = self._conn = await asyncpg.connect(self.dsn, timeout=10)
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(self.channel, self._notified)
            except DB_ERRORS as exc:
                log.warning(
                    "%s listener: cannot listen (%s); again in %.1f s", self.name, type(exc).__name__, backoff
                )
                await self._drop()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            self.connects += 1
            if self.connects > 1:
                log.info("%s listener: listening again", self.name)
            backoff = BACKOFF_FIRST
            self.connected.set()
            if self.gauge is not None:
                self.gauge.inc()
            try:
                self.on_connected()
                await self._watch(conn, lost)
            finally:
                self.connected.clear()
                if self.gauge is not None:
                    self.gauge.dec()
            log.warning("%s listener: connection lost; reconnecting", self.name)
            await self._drop()

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Returns when the connection is gone."""
        while not conn.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), CHECK_EVERY)
                return
            try:
                await conn.execute("SELECT 1", timeout=CHECK_TIMEOUT)
            except DB_ERRORS:
                return

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()


class JobListener(ChannelListener):
    """Calls `on_notice` with each notice of the jobs channel, and `on_connected` each time the connection is
    (re)established."""

    def __init__(
        self,
        dsn: str,
        on_notice: Callable[[JobNotice], None],
        on_connected: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(
            dsn, CHANNEL, self._payload, on_connected, name="jobs", gauge=metrics.JOBS_LISTENERS_CONNECTED
        )
        self.on_notice = on_notice

    def _payload(self, payload: str) -> None:
        notice = JobNotice.parse(payload)
        if notice is not None:
            metrics.JOB_NOTIFICATIONS.inc()
            if notice.at is not None:
                metrics.NOTIFY_LATENCY.observe(max(0.0, time.time() - notice.at))
            self.on_notice(notice)

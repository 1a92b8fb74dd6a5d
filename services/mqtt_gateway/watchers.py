"""The gateway's background work, each one statement for all connected devices (never a query per device):
- revocation: every LIVE_SECONDS, iotcloud.mqtt_live over every connection's token hash; a device whose
  token was revoked or rotated away is disconnected (within LIVE_SECONDS plus one statement);
- notify / notify-next: LISTEN iotcloud_jobs (shared/jobs/listener.py; payload {"tenant", "device" or null,
  "job"}, sent by the commits that bring a job to devices: db/functions/096_notify.sql) marks the affected
  connected devices; their pending lists are read again with
  iotcloud.mqtt_pending and, where the next execution or the list changed, notify-next and notify go out.
  Every FALLBACK_SECONDS all connections are checked anyway: a lost notification (the listener's
  connection down, a commit that sends none) makes a notify late, never lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import asyncpg

from mqtt_gateway import codec
from mqtt_gateway import payloads as aws
from mqtt_gateway.jobs_api import PENDING, PENDING_LIMIT
from mqtt_gateway.session import Session
from shared.infra.db import DB_ERRORS
from shared.jobs.listener import JobListener
from shared.jobs.notify import JobNotice

if TYPE_CHECKING:
    from mqtt_gateway.gateway import Gateway

log = logging.getLogger("iotcloud.mqtt.watchers")

LIVE = "SELECT ord FROM iotcloud.mqtt_live($1::text[])"
LIVE_SECONDS = 2.0
FALLBACK_SECONDS = 5.0
DEBOUNCE_SECONDS = 0.02  # notifications arriving together are answered by one statement
CHUNK = 2000
RECONNECT_SECONDS = 1.0


class Watchers:
    def __init__(self, gateway: Gateway, dsn: str) -> None:
        self.gateway = gateway
        self.dsn = dsn
        self.dirty: set[Session] = set()
        self.wakeup = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        # the process's LISTEN connection (shared/jobs/listener.py); (re)connected: everything is checked
        self.listener = JobListener(dsn, self.on_notice, lambda: self.mark(self.gateway.sessions.values()))
        self.listening = self.listener.connected
        self.checks = 0  # statements run for notify, for tests
        self.fallback_seconds = FALLBACK_SECONDS
        self.live_seconds = LIVE_SECONDS

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._notify_loop()), asyncio.create_task(self._live_loop())]
        self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def mark(self, sessions: Any) -> None:
        self.dirty.update(sessions)
        self.wakeup.set()

    def on_notice(self, notice: JobNotice) -> None:
        self.mark(
            s
            for s in self.gateway.sessions.values()
            if notice.concerns(s.device.tenant_id, s.device.device_id)
        )

    async def baseline(self, session: Session) -> None:
        """What is pending at CONNECT (AWS sends no notify for it: devices ask with get or start-next)."""
        rows = await self.gateway.api.pending(session.device.token_hash, PENDING_LIMIT)
        session.last_next, session.last_pending = _next_key(rows), _pending_key(rows)

    async def check(self, sessions: list[Session]) -> None:
        """The pending lists of these devices, one statement per CHUNK of them; notify where changed."""
        for start in range(0, len(sessions), CHUNK):
            chunk = [s for s in sessions[start : start + CHUNK] if not s.closed]
            if not chunk:
                continue
            rows = await self.gateway.pool.fetch(
                PENDING, [s.device.token_hash for s in chunk], self.gateway.clock(), PENDING_LIMIT
            )
            self.checks += 1
            by_ord: dict[int, list[asyncpg.Record]] = defaultdict(list)
            for row in rows:
                by_ord[row["ord"]].append(row)
            for i, session in enumerate(chunk, start=1):
                _tell(session, by_ord.get(i, []))

    async def _notify_loop(self) -> None:
        """Wake-ups check the marked devices; every fallback_seconds all of them are checked, however busy
        the wake-ups keep the loop (a device nobody notifies about is never left unchecked longer)."""
        loop = asyncio.get_running_loop()
        last_full = loop.time()
        while True:
            try:
                left = last_full + self.fallback_seconds - loop.time()
                if left > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wakeup.wait(), left)
                if loop.time() >= last_full + self.fallback_seconds:
                    last_full = loop.time()
                    self.wakeup.clear()
                    self.dirty = set()
                    todo = list(self.gateway.sessions.values())
                else:
                    await asyncio.sleep(DEBOUNCE_SECONDS)
                    self.wakeup.clear()
                    todo, self.dirty = list(self.dirty), set()
                await self.check(todo)
            except asyncio.CancelledError:
                raise
            except DB_ERRORS as exc:  # an outage: one line per attempt, no traceback
                log.warning("notify check failed (%s); the next one retries", type(exc).__name__)
                await asyncio.sleep(RECONNECT_SECONDS)
            except Exception:
                log.exception("notify check failed; the next one retries")
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _live_loop(self) -> None:
        while True:
            await asyncio.sleep(self.live_seconds)
            try:
                await self.check_live()
            except asyncio.CancelledError:
                raise
            except DB_ERRORS as exc:
                log.warning("revocation check failed (%s); the next one retries", type(exc).__name__)
            except Exception:
                log.exception("revocation check failed; the next one retries")

    async def check_live(self) -> None:
        sessions = list(self.gateway.sessions.values())
        for start in range(0, len(sessions), CHUNK):
            chunk = sessions[start : start + CHUNK]
            rows = await self.gateway.pool.fetch(LIVE, [s.device.token_hash for s in chunk])
            live = {row["ord"] for row in rows}
            for i, session in enumerate(chunk, start=1):
                if i not in live:
                    log.info("%s: provision token revoked or rotated; disconnected", session.device.thing)
                    session.close(codec.NOT_AUTHORIZED, "the provision token was revoked or rotated")


def _next_key(rows: list[Any]) -> tuple[str, int] | None:
    return (rows[0]["job_id"], rows[0]["retry_attempt"]) if rows else None


def _pending_key(rows: list[Any]) -> tuple[tuple[str, str, int], ...]:
    return tuple((r["job_id"], r["status"], r["retry_attempt"]) for r in rows)


def _tell(session: Session, rows: list[Any]) -> None:
    thing = session.device.thing
    pending, nxt = _pending_key(rows), _next_key(rows)
    if pending != session.last_pending:
        session.last_pending = pending
        session.deliver(f"$aws/things/{thing}/jobs/notify", aws.notify(rows))
    if nxt != session.last_next:
        session.last_next = nxt
        session.deliver(
            f"$aws/things/{thing}/jobs/notify-next", aws.notify_next(rows[0] if rows else None, thing)
        )

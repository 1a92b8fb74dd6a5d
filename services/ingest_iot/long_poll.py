"""Long-polls of the device API (`GET /device/v1/jobs/pending?wait=N`): the waiting devices of this process,
keyed by tenant, woken by the jobs channel's notifications (shared/jobs/listener.py, one LISTEN connection
per process). A waiting poll looks again when woken and, whatever happens, every `poll_fallback_seconds`,
so a lost notification only delays its answer. On shutdown every waiter answers at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from shared.errors import Unavailable
from shared.jobs.listener import JobListener
from shared.jobs.notify import JobNotice
from shared.observability import metrics

log = logging.getLogger("iotcloud.device_api.long_poll")


@dataclass(eq=False, slots=True)
class Waiter:
    tenant: str
    device: str
    woken: asyncio.Event = field(default_factory=asyncio.Event)


class Waiters:
    """The long-polls waiting in this process, by tenant; at most `limit` at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.closing = False
        self._by_tenant: dict[str, set[Waiter]] = {}

    def add(self, tenant: str, device: str) -> Waiter | None:
        """A new waiter; None when `limit` are already waiting."""
        if self.count >= self.limit:
            return None
        waiter = Waiter(tenant, device)
        self._by_tenant.setdefault(tenant, set()).add(waiter)
        self.count += 1
        metrics.LONG_POLLS_WAITING.inc()
        return waiter

    def waiting_in(self, tenant: str) -> int:
        return len(self._by_tenant.get(tenant, ()))

    def remove(self, waiter: Waiter) -> None:
        group = self._by_tenant.get(waiter.tenant)
        if group is not None and waiter in group:
            group.discard(waiter)
            self.count -= 1
            metrics.LONG_POLLS_WAITING.dec()
            if not group:
                del self._by_tenant[waiter.tenant]

    def notice(self, notice: JobNotice) -> None:
        for waiter in self._by_tenant.get(notice.tenant, ()):
            if notice.device is None or notice.device == waiter.device:
                waiter.woken.set()

    def wake_all(self) -> None:
        for group in self._by_tenant.values():
            for waiter in group:
                waiter.woken.set()

    def close(self) -> None:
        self.closing = True
        self.wake_all()


class LongPolls:
    """The app's waiters and their listener (started and stopped with the app)."""

    def __init__(self, dsn: str, limit: int, fallback_seconds: float) -> None:
        self.waiters = Waiters(limit)
        self.fallback_seconds = fallback_seconds
        # after a (re)connection, whatever was notified while the connection was down is lost: look again
        self.listener = JobListener(dsn, self.waiters.notice, self.waiters.wake_all)

    def start(self) -> None:
        self.listener.start()

    def drain(self) -> None:
        """The server is stopping: waiting polls answer now, new ones do not wait."""
        self.waiters.close()

    async def stop(self) -> None:
        self.drain()
        await self.listener.stop()

    @contextlib.contextmanager
    def waiting(self, tenant: str, device: str) -> Iterator[Waiter | None]:
        """Registers the device as waiting, before its first look (so no notification can fall between the
        look and the registration); None past the process's limit of waiters, or while stopping."""
        waiter = None if self.waiters.closing else self.waiters.add(tenant, device)
        try:
            yield waiter
        finally:
            if waiter is not None:
                self.waiters.remove(waiter)

    def refuse(self, retry_after: int) -> Unavailable:
        metrics.LONG_POLLS_REFUSED.inc()
        return Unavailable(
            "too many devices are waiting on this server; poll again after Retry-After seconds",
            retry_after=retry_after,
        )

    async def wait(self, waiter: Waiter, seconds: float, look: Callable[[], Awaitable[bool]]) -> None:
        """Waits up to `seconds` for `look()` (a new look at the device's work) to find what is worth
        answering: looks again on each notification that concerns the device, every fallback period, and
        at the end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.waiters.closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.woken.wait(), min(remaining, self.fallback_seconds))
            if self.waiters.closing:
                return
            waiter.woken.clear()
            if await look():
                return

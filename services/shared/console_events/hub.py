"""The operator API's console events: one LISTEN connection per process on the console channel
(shared/jobs/listener.py), fanned out in memory to the event streams of the notice's tenant.

- Coalesced: notices of one tenant and kind within `coalesce_seconds` of the last event sent make one event
  (the first goes out at once, the rest at the end of the window), naming the union of their ids, or none
  ("any") past IDS_MAX.
- Bounded: each stream has a queue of at most `queue_max` events; a client that reads too slowly to keep it
  below that is dropped (its stream ends; the console reconnects and refetches), never buffered forever.
- Resync: after the listener reconnects, what was notified meanwhile is lost, so every stream gets a
  "resync" event (the console refetches everything).
- Drain: when the server stops, every stream ends at once and no new one opens (Ctrl-C is not held)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from shared.console_events.notices import CHANNEL, IDS_MAX, ConsoleNotice
from shared.jobs.listener import ChannelListener
from shared.observability import metrics

log = logging.getLogger("iotcloud.console_events")

COALESCE_SECONDS = 0.2
QUEUE_MAX = 64
PING_SECONDS = 15.0  # a stream's comment line this often keeps proxies from closing it while quiet
RECHECK_SECONDS = 30.0  # how often a stream checks that its session holds (token expiry, user removed)
RESYNC = "resync"


@dataclass(frozen=True, slots=True)
class ConsoleEvent:
    """What a stream sends: `kind` (jobs, devices, groups, or resync) and the ids that changed (None: any)."""

    kind: str
    ids: tuple[str, ...] | None = None


@dataclass(eq=False, slots=True)
class Subscriber:
    """One open stream: its tenant and its queue of events (None ends it)."""

    tenant: str
    queue: asyncio.Queue[ConsoleEvent | None] = field(default_factory=asyncio.Queue)
    dropped: bool = False


class ConsoleHub:
    def __init__(
        self, dsn: str, *, coalesce_seconds: float = COALESCE_SECONDS, queue_max: int = QUEUE_MAX
    ) -> None:
        self.coalesce_seconds = coalesce_seconds
        self.queue_max = queue_max
        self.ping_seconds = PING_SECONDS
        self.recheck_seconds = RECHECK_SECONDS
        self.closing = False
        self.listener = ChannelListener(
            dsn, CHANNEL, self.on_payload, self._connected, name="console",
            gauge=metrics.CONSOLE_LISTENERS_CONNECTED,
        )  # fmt: skip
        self._subscribers: dict[str, set[Subscriber]] = {}
        # per (tenant, kind): the ids waiting to be sent (None: any), its timer, when it last sent
        self._pending: dict[tuple[str, str], set[str] | None] = {}
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._last_sent: dict[tuple[str, str], float] = {}

    def start(self) -> None:
        self.listener.start()

    def drain(self) -> None:
        """The server is stopping: every stream ends now, none opens."""
        self.closing = True
        for group in list(self._subscribers.values()):
            for sub in list(group):
                self._end(sub)
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._pending.clear()

    async def stop(self) -> None:
        self.drain()
        await self.listener.stop()

    def subscribe(self, tenant: str) -> Subscriber | None:
        """A new stream of the tenant's events; None while stopping."""
        if self.closing:
            return None
        sub = Subscriber(tenant)
        self._subscribers.setdefault(tenant, set()).add(sub)
        metrics.CONSOLE_STREAMS.inc()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        group = self._subscribers.get(sub.tenant)
        if group is None or sub not in group:
            return
        group.discard(sub)
        metrics.CONSOLE_STREAMS.dec()
        if not group:  # nobody of that tenant listens: forget its windows
            del self._subscribers[sub.tenant]
            for key in [k for k in self._last_sent if k[0] == sub.tenant]:
                del self._last_sent[key]
            for key in [k for k in self._timers if k[0] == sub.tenant]:
                self._timers.pop(key).cancel()
                self._pending.pop(key, None)

    def streams(self, tenant: str) -> int:
        return len(self._subscribers.get(tenant, ()))

    def on_payload(self, payload: str) -> None:
        notice = ConsoleNotice.parse(payload)
        if notice is None or notice.tenant not in self._subscribers or self.closing:
            return
        key = (notice.tenant, notice.kind)
        if key in self._pending:
            waiting = self._pending[key]
            if waiting is not None and notice.ids is not None:
                waiting |= notice.ids
                if len(waiting) > IDS_MAX:
                    self._pending[key] = None
            else:
                self._pending[key] = None
        else:
            self._pending[key] = set(notice.ids) if notice.ids is not None else None
        if key not in self._timers:
            loop = asyncio.get_running_loop()
            due = self._last_sent.get(key, float("-inf")) + self.coalesce_seconds
            self._timers[key] = loop.call_later(max(0.0, due - loop.time()), self._flush, key)

    def _flush(self, key: tuple[str, str]) -> None:
        self._timers.pop(key, None)
        if key not in self._pending:
            return
        ids = self._pending.pop(key)
        self._last_sent[key] = asyncio.get_running_loop().time()
        self._send(key[0], ConsoleEvent(key[1], tuple(sorted(ids)) if ids is not None else None))

    def _send(self, tenant: str, event: ConsoleEvent) -> None:
        for sub in list(self._subscribers.get(tenant, ())):
            if sub.queue.qsize() >= self.queue_max:
                log.warning("console events: a stream of tenant %s reads too slowly; ended", tenant)
                sub.dropped = True
                metrics.CONSOLE_STREAMS_DROPPED.inc()
                self._end(sub)
            else:
                sub.queue.put_nowait(event)

    def _end(self, sub: Subscriber) -> None:
        self.unsubscribe(sub)
        sub.queue.put_nowait(None)

    def _connected(self) -> None:
        """(Re)connected: after a reconnection, what was sent meanwhile is lost: every stream resyncs."""
        if self.listener.connects > 1:
            for tenant in list(self._subscribers):
                self._send(tenant, ConsoleEvent(RESYNC))

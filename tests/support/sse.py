"""A server-sent events client for tests: GET a stream over real HTTP (httpx) and read its events as they
come, comment lines (heartbeats) counted apart."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson


@dataclass(frozen=True, slots=True)
class Event:
    event: str
    data: Any


@dataclass
class EventStream:
    url: str
    headers: dict[str, str]
    status: int = 0
    comments: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _queue: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    _task: asyncio.Task[None] | None = None
    _client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> EventStream:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10, read=None))
        request = self._client.build_request("GET", self.url, headers=self.headers)
        response = await self._client.send(request, stream=True)
        self.status = response.status_code
        if self.status != 200:
            await response.aread()
            await response.aclose()
            self.ended.set()
            return self
        self._task = asyncio.create_task(self._read(response))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _read(self, response: httpx.Response) -> None:
        name, data = "message", []
        try:
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self.comments += 1
                elif line == "":
                    if data:
                        self._queue.put_nowait(Event(name, orjson.loads("\n".join(data))))
                    name, data = "message", []
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
        except httpx.HTTPError:
            pass
        finally:
            await response.aclose()
            self.ended.set()

    async def next(self, timeout: float = 5.0) -> Event:
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def until(self, kind: str, ident: str | None = None, timeout: float = 5.0) -> Event:
        """The first event of `kind` (naming `ident`, or naming nothing: "any"), skipping others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = await self.next(max(0.01, deadline - loop.time()))
            if event.event == kind and (
                ident is None or event.data["ids"] is None or ident in event.data["ids"]
            ):
                return event

    def pending(self) -> list[Event]:
        out = []
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        return out

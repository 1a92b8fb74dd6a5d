"""HTTP for the simulator. httpx's connection pool costs O(connections) of Python per request, which
made the simulator, not the server, the bottleneck at 64 connections; so plain http:// URLs use a small
keep-alive pool of asyncio streams speaking HTTP/1.1 through h11 (the protocol library under httpx and
uvicorn). https:// URLs, and tests with an in-process app, go through httpx."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol
from urllib.parse import urlsplit

import h11
import httpx

Headers = list[tuple[str, str]]


class HttpClient(Protocol):
    async def request(
        self, method: str, path: str, headers: Headers, body: bytes | None
    ) -> tuple[int, bytes]:
        """(status, body); raises OSError, TimeoutError or h11.ProtocolError (or httpx.HTTPError)."""
        ...

    async def aclose(self) -> None: ...


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.h11 = h11.Connection(our_role=h11.CLIENT)

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.h11 = h11.Connection(our_role=h11.CLIENT)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: Headers, body: bytes | None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        head = [("Host", f"{self.host}:{self.port}"), *headers]
        head.append(("Content-Length", str(len(body) if body else 0)))
        out = self.h11.send(h11.Request(method=method, target=path, headers=head)) or b""
        if body:
            out += self.h11.send(h11.Data(data=body)) or b""
        out += self.h11.send(h11.EndOfMessage()) or b""
        self.writer.write(out)
        await self.writer.drain()
        status, chunks = 0, []
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionResetError("server closed the connection")
                self.h11.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("server closed the connection")
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
        else:
            self.close()
        return status, b"".join(chunks)


class H11Pool:
    """At most `size` keep-alive connections to one http:// origin; callers queue for a free one."""

    def __init__(self, base_url: str, size: int, timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"H11Pool needs an http:// URL, not {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._idle: asyncio.Queue[_Connection] = asyncio.Queue()
        for _ in range(size):
            self._idle.put_nowait(_Connection(self.host, self.port))
        self._all = list(self._idle._queue)  # type: ignore[attr-defined]

    async def request(
        self, method: str, path: str, headers: Headers, body: bytes | None
    ) -> tuple[int, bytes]:
        conn = await self._idle.get()
        try:
            async with asyncio.timeout(self.timeout):
                return await conn.request(method, self.prefix + path, headers, body)
        except BaseException:
            conn.close()  # a half-read response must not be reused
            raise
        finally:
            self._idle.put_nowait(conn)

    async def aclose(self) -> None:
        for conn in self._all:
            with contextlib.suppress(OSError):
                conn.close()


class HttpxClient:
    """The same interface over httpx (https, or an in-process ASGI transport in tests)."""

    def __init__(
        self, base_url: str, size: int, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self.client = httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=timeout, transport=transport
        )

    async def request(
        self, method: str, path: str, headers: Headers, body: bytes | None
    ) -> tuple[int, bytes]:
        resp = await self.client.request(method, path, headers=headers, content=body)
        return resp.status_code, resp.content

    async def aclose(self) -> None:
        await self.client.aclose()


def make_client(
    base_url: str, size: int, timeout: float, transport: httpx.AsyncBaseTransport | None = None
) -> HttpClient:
    if transport is None and base_url.startswith("http://"):
        return H11Pool(base_url, size, timeout)
    return HttpxClient(base_url, size, timeout, transport)

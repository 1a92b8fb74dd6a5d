"""HTTP for the simulator. httpx's connection pool costs O(connections) of Python per request, which
made the simulator, not the server, the bottleneck at 64 connections; so plain http:// URLs use a small
keep-alive pool of asyncio connections that write HTTP/1.1 requests themselves and read responses with
httptools (the C parser uvicorn uses). It replaced a pool over h11, whose pure-Python parsing was a quarter
of the simulator's CPU in B3 (docs/performance.md, "Group read"). https:// URLs, and tests with an
in-process app, go through httpx."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol, cast
from urllib.parse import urlsplit

import httptools
import httpx

Headers = list[tuple[str, str]]
# what a request can raise besides the caller's own errors
HTTP_ERRORS: tuple[type[Exception], ...] = (OSError, TimeoutError, httptools.HttpParserError, httpx.HTTPError)


class HttpClient(Protocol):
    async def request(
        self, method: str, path: str, headers: Headers, body: bytes | None
    ) -> tuple[int, bytes]:
        """(status, body); raises one of HTTP_ERRORS."""
        ...

    async def aclose(self) -> None: ...


class _Connection(asyncio.Protocol):
    """One keep-alive connection: a request at a time, its response parsed as it arrives."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._chunks: list[bytes] = []
        self._waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self._host_line = f"Host: {host}:{port}\r\n"

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionResetError("server closed the connection"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            keep = self._parser.should_keep_alive()
            self._waiter.set_result((self._parser.get_status_code(), b"".join(self._chunks), keep))

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.transport = None

    async def request(
        self, method: str, path: str, headers: Headers, body: bytes | None
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        if self.transport is None or self.transport.is_closing():
            await loop.create_connection(lambda: self, self.host, self.port)
        assert self.transport is not None
        self._parser = httptools.HttpResponseParser(self)
        self._chunks = []
        self._waiter = waiter = loop.create_future()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers)
        length = len(body) if body else 0
        out = f"{method} {path} HTTP/1.1\r\n{self._host_line}{head}Content-Length: {length}\r\n\r\n".encode()
        self.transport.write(out + body if body else out)
        try:
            status, data, keep_alive = await waiter
        finally:
            self._waiter = None
        if not keep_alive:
            self.close()
        return status, data


class KeepAlivePool:
    """At most `size` keep-alive connections to one http:// origin; callers queue for a free one."""

    def __init__(self, base_url: str, size: int, timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"KeepAlivePool needs an http:// URL, not {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._all = [_Connection(self.host, self.port) for _ in range(size)]
        self._idle: asyncio.Queue[_Connection] = asyncio.Queue()
        for conn in self._all:
            self._idle.put_nowait(conn)

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
        return KeepAlivePool(base_url, size, timeout)
    return HttpxClient(base_url, size, timeout, transport)

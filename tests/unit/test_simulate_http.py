"""The simulator's HTTP/1.1 keep-alive pool against small real servers on loopback sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvloop

from simulator.http import HttpxClient, KeepAlivePool, make_client

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return head, body


class Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> Server:
        srv = Server(handler)
        server = await asyncio.start_server(srv._serve, "127.0.0.1", 0)
        servers.append(server)
        srv.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return srv

    yield start
    for s in servers:
        s.close()
        await s.wait_closed()


def _response(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def echo_keepalive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        head, body = await _read_request(reader)
        method, target = head.split(b" ")[:2]
        writer.write(_response(method + b" " + target + b" " + body))
        await writer.drain()


async def test_requests_reuse_a_kept_alive_connection(serve: Callable[[Handler], Awaitable[Server]]) -> None:
    srv = await serve(echo_keepalive)
    pool = KeepAlivePool(srv.url, size=1, timeout=5)
    for i in range(5):
        status, body = await pool.request("PUT", f"/x/{i}", [("X-A", "1")], b'{"n": 1}')
        assert (status, body) == (200, f'PUT /x/{i} {{"n": 1}}'.encode())
    status, body = await pool.request("GET", "/y", [], None)
    assert (status, body) == (200, b"GET /y ")
    assert srv.connections == 1
    await pool.aclose()


async def test_connection_close_and_server_errors(serve: Callable[[Handler], Awaitable[Server]]) -> None:
    async def close_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_response(b'{"error": "x"}', "503 Service Unavailable", "Connection: close\r\n"))
        await writer.drain()

    srv = await serve(close_each)
    pool = KeepAlivePool(srv.url, size=2, timeout=5)
    for _ in range(3):
        assert await pool.request("GET", "/", [], None) == (503, b'{"error": "x"}')
    assert srv.connections == 3  # reopened after each "Connection: close"
    await pool.aclose()


async def test_a_dropped_response_raises_and_the_next_request_reconnects(
    serve: Callable[[Handler], Awaitable[Server]],
) -> None:
    calls = 0

    async def flaky(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        while True:
            await _read_request(reader)
            calls += 1
            if calls == 1:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
                await writer.drain()
                return  # closes mid-body
            writer.write(_response(b"ok"))
            await writer.drain()

    srv = await serve(flaky)
    pool = KeepAlivePool(srv.url, size=1, timeout=5)
    with pytest.raises(ConnectionError):
        await pool.request("GET", "/", [], None)
    assert await pool.request("GET", "/", [], None) == (200, b"ok")
    await pool.aclose()


async def test_timeout_and_refused_connections(serve: Callable[[Handler], Awaitable[Server]]) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    srv = await serve(silent)
    pool = KeepAlivePool(srv.url, size=1, timeout=0.2)
    with pytest.raises(TimeoutError):
        await pool.request("GET", "/", [], None)
    await pool.aclose()
    refused = KeepAlivePool("http://127.0.0.1:1", size=1, timeout=2)
    with pytest.raises(OSError):
        await refused.request("GET", "/", [], None)


def test_client_choice() -> None:
    with pytest.raises(ValueError):
        KeepAlivePool("https://example.invalid", 1, 1)
    assert isinstance(make_client("http://127.0.0.1:9", 4, 1), KeepAlivePool)
    assert isinstance(make_client("https://127.0.0.1:9", 4, 1), HttpxClient)


def test_the_pool_runs_on_uvloop() -> None:
    """uvloop's transports are not asyncio.Transport subclasses; the pool must not care."""

    async def main() -> tuple[int, bytes]:
        server = await asyncio.start_server(echo_keepalive, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = KeepAlivePool(f"http://127.0.0.1:{port}", size=1, timeout=5)
        try:
            return await pool.request("GET", "/u", [], None)
        finally:
            await pool.aclose()
            server.close()
            await server.wait_closed()

    assert uvloop.run(main()) == (200, b"GET /u ")

"""Real HTTP servers for tests: uvicorn on free loopback ports, inside the test session's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from shared.web.service_app import begin_shutdown


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        begin_shutdown(self.config.app)  # long-polls answer now rather than hold the graceful shutdown
        await super().shutdown(sockets)


class LiveServer:
    def __init__(self, app: Any, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = _Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_config=None,
                access_log=False,
                lifespan="on",
                # client and server share one event loop here: under a burst, a request can be written
                # seconds after its connection opened, past uvicorn's default 5 s keep-alive timeout
                timeout_keep_alive=120,
            )
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> LiveServer:
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(400):
            if self.server.started:
                return self
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task

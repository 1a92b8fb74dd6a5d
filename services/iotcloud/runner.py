"""`iotcloud up`: operator API, device API, AWS-compatible API, MQTT gateway and worker in one process (and
its metrics endpoint when IOTCLOUD_METRICS_PORT is set); Ctrl-C stops all of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Coroutine, Generator
from typing import Any

import uvicorn

from aws_api.app import create_app as create_aws_app
from ingest_iot.app import create_app as create_device_app
from mqtt_gateway.server import serve as serve_mqtt
from ops_worker.worker import serve as serve_worker
from shared.infra.config import Settings
from shared.observability.context import SERVICE
from shared.observability.exporter import EXPORTER
from shared.web.service_app import begin_shutdown
from ui_iot.app import create_app as create_ui_app

log = logging.getLogger("iotcloud")


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the supervisor."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        begin_shutdown(self.config.app)  # long-polls answer now rather than hold the graceful shutdown
        await super().shutdown(sockets)


def _server(app: object, host: str, port: int) -> _Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    return _Server(config)


def _task_of(service: str, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    token = SERVICE.set(service)
    try:
        return asyncio.create_task(work)
    finally:
        SERVICE.reset(token)


async def run_services(
    settings: Settings,
    app_url: str,
    *,
    ui: bool = True,
    device: bool = True,
    worker: bool = True,
    mqtt: bool = True,
    aws: bool = True,
    on_ready: object = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Runs the chosen services until SIGINT/SIGTERM (or `stop` is set); the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    named: list[tuple[str, _Server]] = []
    if ui:
        named.append(("ui", _server(create_ui_app(settings, app_url), settings.ui_host, settings.ui_port)))
    if device:
        app = create_device_app(settings, app_url)
        named.append(("device", _server(app, settings.device_host, settings.device_port)))
    if aws:
        named.append(
            ("aws", _server(create_aws_app(settings, app_url), settings.aws_host, settings.aws_port))
        )
    if settings.metrics_port is not None:
        named.append(("metrics", _server(EXPORTER, settings.metrics_host, settings.metrics_port)))
    servers = [s for _, s in named]
    # Each service's task (and every task it creates: a request's, a tick's) knows its service for logs.
    tasks = [_task_of(name, s.serve()) for name, s in named]
    if worker:
        tasks.append(_task_of("worker", serve_worker(settings, app_url, stop)))
    if mqtt:
        tasks.append(_task_of("mqtt", serve_mqtt(settings, app_url, stop)))

    async def ready_then_announce() -> None:
        while not all(s.started for s in servers):
            if any(t.done() for t in tasks):
                return
            await asyncio.sleep(0.05)
        if callable(on_ready):
            on_ready()

    announcer = asyncio.create_task(ready_then_announce())
    stopper = asyncio.create_task(stop.wait())
    code = 0
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    for t in done:
        if t is not stopper and t.exception() is not None:
            exc = t.exception()
            code = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 1
            log.error("a service stopped: %r", exc)
        elif t is not stopper:
            code = code or 1
    log.info("stopping ...")
    stop.set()
    for s in servers:
        s.should_exit = True
    announcer.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, SystemExit | asyncio.CancelledError):
            log.error("service error during shutdown: %r", r)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
    return code

"""Running the gateway as a service: its own pool (the runtime role), its port, until `stop` is set."""

from __future__ import annotations

import asyncio
import errno
import logging

from mqtt_gateway.gateway import Gateway
from shared.infra.config import Settings
from shared.infra.db import create_pool
from shared.observability.exporter import EXPORTER

log = logging.getLogger("iotcloud.mqtt")


class PortInUse(RuntimeError):
    """The MQTT port is taken: the service cannot start (its log line says which port and what to do)."""


async def start_gateway(settings: Settings, app_url: str) -> Gateway:
    pool = await create_pool(
        app_url,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        session_state=False,
        transaction_pooler=settings.transaction_pooler,
    )
    EXPORTER.watch_pool("mqtt", pool)
    gateway = Gateway(settings, pool, app_url)
    try:
        await gateway.start(settings.mqtt_host, settings.mqtt_port)
    except OSError as exc:
        EXPORTER.forget_pool("mqtt", pool)
        await pool.close()
        if exc.errno == errno.EADDRINUSE:
            log.error(
                "MQTT port %s:%d is already in use: stop what listens there, or choose another port "
                "(IOTCLOUD_MQTT_PORT, or --mqtt-port with `iotcloud up`)",
                settings.mqtt_host,
                settings.mqtt_port,
            )
            raise PortInUse(f"MQTT port {settings.mqtt_port} is already in use") from None
        raise
    log.info("MQTT gateway listening on %s:%d", settings.mqtt_host, gateway.port)
    return gateway


async def serve(settings: Settings, app_url: str, stop: asyncio.Event) -> None:
    gateway = await start_gateway(settings, app_url)
    try:
        await stop.wait()
    finally:
        await gateway.stop()
        EXPORTER.forget_pool("mqtt", gateway.pool)
        await gateway.pool.close()

"""One bench server: `python -m bench.serve device|ui|floor|mqtt --port P [--workers N]`, DSN in BENCH_DSN."""

from __future__ import annotations

import argparse
import os

import uvicorn

from shared.infra.config import Settings


def _settings() -> Settings:
    return Settings(secret=os.environ["IOTCLOUD_SECRET"], last_seen_interval_seconds=60)


def device_app() -> object:
    from ingest_iot.app import create_app

    return create_app(_settings(), os.environ["BENCH_DSN"])


def ui_app() -> object:
    from ui_iot.app import create_app

    return create_app(_settings(), os.environ["BENCH_DSN"])


def floor_app() -> object:
    from bench.floor_app import create_floor_app

    return create_floor_app(os.environ["BENCH_DSN"])


def run_mqtt(port: int) -> None:
    """The MQTT front on `port` until SIGTERM."""
    import asyncio
    import signal

    from mqtt_gateway.server import serve

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        settings = _settings().model_copy(update={"mqtt_host": "127.0.0.1", "mqtt_port": port})
        await serve(settings, os.environ["BENCH_DSN"], stop)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["device", "ui", "floor", "mqtt"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.kind == "mqtt":
        run_mqtt(args.port)
        return
    uvicorn.run(
        f"bench.serve:{args.kind}_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()

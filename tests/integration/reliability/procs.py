"""Real service processes (`iotcloud serve ui|device|worker`) against one database, with their output in
log files (scanned for secrets by the suite), and SIGKILL for fault injection."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.reliability.logwatch import WATCH
from tests.support.checkout import checkout_env
from tests.support.servers import free_port

IOTCLOUD = str(Path(sys.executable).parent / "iotcloud")


class ServiceProc:
    def __init__(
        self, kind: str, name: str, env: dict[str, str], log_dir: Path, args: tuple[str, ...] = ()
    ) -> None:
        self.kind = kind
        self.args = args
        self.name = name
        self.port = free_port() if kind != "worker" else 0
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        WATCH.files.add(self.log_path)
        if env.get("IOTCLOUD_LOG_FORMAT") == "json":
            WATCH.json_files.add(self.log_path)
        self.env = dict(env)
        # each process its own metrics port, as in production (docs/operations.md)
        self.metrics_url = f"http://127.0.0.1:{free_port()}/metrics"
        self.env["IOTCLOUD_METRICS_PORT"] = self.metrics_url.split(":")[2].split("/")[0]
        if kind == "ui":
            self.env["IOTCLOUD_UI_PORT"] = str(self.port)
        elif kind == "device":
            self.env["IOTCLOUD_DEVICE_PORT"] = str(self.port)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> ServiceProc:
        assert self.proc is None
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"--- start #{self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [IOTCLOUD, "serve", self.kind, *self.args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def ready(self, timeout: float = 30.0) -> ServiceProc:
        """Waits until the HTTP service answers /health, or the worker has logged its start."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_text()}")
                if self.kind == "worker":
                    if self.log_text().count("worker started") >= self.starts:
                        return self
                else:
                    try:
                        if (await http.get(f"{self.url}/health")).status_code == 200:
                            return self
                    except httpx.TransportError:
                        pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready:\n{self.log_text()}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


def service_env(owner_url: str, secret: str, home: Path, tick_seconds: float = 0.3) -> dict[str, str]:
    env = checkout_env({k: v for k, v in os.environ.items() if not k.startswith("IOTCLOUD_")})
    env.update(
        DATABASE_URL=owner_url,
        IOTCLOUD_SECRET=secret,
        IOTCLOUD_HOME=str(home),
        IOTCLOUD_JOBS_TICK_SECONDS=str(tick_seconds),
        IOTCLOUD_POOL_MAX="8",  # 5 processes share the server's connection slots with the rest of the suite
        # bad device tokens are counted per address in the database, shared by every test on it (127.0.0.1):
        # lifted as in the in-process settings; the limiter's own tests use addresses of their own
        IOTCLOUD_DEVICE_AUTH_FAILURES_PER_MINUTE="100000",
        IOTCLOUD_LOG_FORMAT="json",  # as in production; logwatch.py checks every line and scans it for secrets
        PYTHONUNBUFFERED="1",
    )
    return env


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(proc: ServiceProc) -> Samples:
    """The process's /metrics, parsed by prometheus_client's parser: (name, labels) -> value."""
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.get(proc.metrics_url)
    assert r.status_code == 200, f"{proc.name}: {r.status_code}"
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


class Cluster:
    """One operator API, two device APIs and two workers on one database."""

    def __init__(
        self,
        owner_url: str,
        secret: str,
        home: Path,
        *,
        devices: int = 2,
        workers: int = 2,
        tick_seconds: float = 0.3,
    ) -> None:
        env = service_env(owner_url, secret, home, tick_seconds)
        home.mkdir(parents=True, exist_ok=True)
        self.ui = ServiceProc("ui", "ui", env, home)
        self.devices = [ServiceProc("device", f"device-{i}", env, home) for i in range(devices)]
        self.workers = [ServiceProc("worker", f"worker-{i}", env, home) for i in range(workers)]

    @property
    def all(self) -> list[ServiceProc]:
        return [self.ui, *self.devices, *self.workers]

    async def start(self) -> Cluster:
        for p in self.all:
            p.start()
        await asyncio.gather(*(p.ready() for p in self.all))
        return self

    def stop(self) -> None:
        for p in self.all:
            p.stop()

    def logs(self) -> dict[str, str]:
        return {p.name: p.log_text() for p in self.all}

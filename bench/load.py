"""HTTP load for B2: Debian's `wrk` with a Lua script rotating device tokens (installed on demand when
running as root), or, failing that, a Python (httpx) load generator, which the table then names."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from simulator.stats import percentile

LUA = Path(__file__).with_name("rotate_tokens.lua")


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str | None:
    """Path of wrk; tries `apt-get install wrk` when missing and running as root. None: not available."""
    if shutil.which("wrk") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return shutil.which("wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"]
    for step in ([install], [["apt-get", "update", "-qq"], install]):
        for cmd in step:
            subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=False)
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


def run_wrk(
    wrk: str, url: str, tokens_file: Path, connections: int, seconds: float, threads: int = 2
) -> LoadResult:
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{int(seconds)}s",
        "--latency",
        "-s",
        str(LUA),
        url,
        "--",
        str(tokens_file),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(
        data[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        tool="wrk",
    )


async def run_python(url: str, tokens: list[str], connections: int, seconds: float) -> LoadResult:
    """A fallback load generator; being Python, it is likely the bottleneck itself."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker(k: int) -> None:
            nonlocal errors
            i = k
            while time.monotonic() < end:
                i = (i + connections) % len(tokens)
                t0 = time.perf_counter()
                try:
                    r = await client.get(url, headers={"X-Provision-Token": tokens[i]})
                    if r.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        t0 = time.monotonic()
        await asyncio.gather(*(worker(k) for k in range(connections)))
        elapsed = time.monotonic() - t0
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        errors=errors,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        tool="python-httpx (wrk unavailable)",
    )

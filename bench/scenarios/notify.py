"""B7 notify latency, HTTP side: 1,000 devices long-poll the device API (`?wait=60`, If-None-Match of what
they hold), the operator creates a job for their group (`POST /customer/jobs`), and each device's answer is
timed from the moment the POST was sent (so the job's creation, its fan-out and commit included: an upper
bound of "from the commit"). The long-polls are raw HTTP/1.1 on asyncio streams, one connection each, so
the client's own overhead stays small. The MQTT side of B7 (notify-next) is the MQTT gateway's."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time

import httpx

from bench.context import Ctx
from bench.data import admin_token, device_token, seed_group, truncate_jobs
from bench.env import Service
from bench.stats import Measure, Result
from shared.infra.db import connect
from simulator.stats import percentile

DEVICES = 1_000
GROUP = "b7"
PATH = "/device/v1/jobs/pending"
SETTLE = 3.0  # seconds for every long-poll to be waiting before the job is created


def _raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))


async def _poll(port: int, token: str, etag: str | None, wait: int) -> tuple[float, int, str, bytes]:
    """One GET of the poll: (arrival time of the answer, status, ETag, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"GET {PATH}?wait={wait} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"X-Provision-Token: {token}"]
        if etag:
            lines.append(f"If-None-Match: {etag}")
        writer.write(("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        arrived = time.perf_counter()
        status = int(head.split(b" ", 2)[1])
        headers = dict(
            line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line
        )
        headers = {k.lower(): v for k, v in headers.items()}
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        return arrived, status, headers.get("etag", ""), body
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def run(ctx: Ctx, device: Service, ui: Service) -> list[Result]:
    _raise_fd_limit(4 * DEVICES)
    owner = await connect(ctx.db.owner_url)
    try:
        await truncate_jobs(owner)
        await seed_group(owner, "bench", GROUP, DEVICES)
        await owner.execute("ANALYZE device_group_members")
    finally:
        await owner.close()
    port = int(device.url.rsplit(":", 1)[1])
    tokens = [device_token("bench", i) for i in range(1, DEVICES + 1)]
    etags = [(await _poll(port, t, None, 0))[2] for t in tokens]  # what each device holds: nothing yet
    headers = {"Authorization": f"Bearer {await admin_token(ctx.db.app_url, 'bench')}"}
    p50, p99, worst = Measure("p50", "ms"), Measure("p99", "ms"), Measure("max", "ms")
    errors = 0
    async with httpx.AsyncClient(base_url=ui.url, headers=headers, timeout=60) as api:
        for rep in range(ctx.sizes.reps):
            job_id = f"b7-{rep + 1}"
            polls = [asyncio.create_task(_poll(port, t, e, 60)) for t, e in zip(tokens, etags, strict=True)]
            await asyncio.sleep(SETTLE)
            early = sum(p.done() for p in polls)
            sent = time.perf_counter()
            r = await api.post("/customer/jobs", json={"document_type": "b7", "target_group_id": GROUP,
                                                       "job_id": job_id})  # fmt: skip
            created = time.perf_counter() - sent
            assert r.status_code == 201, r.text
            answers = await asyncio.gather(*polls)
            latencies = sorted((a[0] - sent) * 1000 for a in answers)
            bad = sum(1 for a in answers if a[1] != 200 or job_id.encode() not in a[3]) + early
            errors += bad
            etags = [a[2] for a in answers]
            p50.values.append(percentile(latencies, 50))
            p99.values.append(percentile(latencies, 99))
            worst.values.append(latencies[-1])
            ctx.log(
                f"B7 rep {rep + 1}: {DEVICES:,} long-polls answered, p50 {p50.values[-1]:.0f} ms "
                f"p99 {p99.values[-1]:.0f} ms max {latencies[-1]:.0f} ms (POST {created * 1000:.0f} ms) "
                f"errors {bad}"
            )
    note = (
        f"{DEVICES:,} HTTP long-polls, from POST /customer/jobs sent (creation included); "
        f"p50 {p50.median:.0f} ms, max {worst.median:.0f} ms; shared loaded machine: indicative"
    )
    if errors:
        note += f", {errors} errors"
    return [
        Result(
            "B7 notify latency (HTTP long-poll)",
            p99,
            None,
            None,
            "p99 < 500 ms",
            p99.median < 500 and not errors,
            note,
            extra={"p50": p50.to_json(), "max": worst.to_json(), "devices": DEVICES},
        )
    ]

"""B7 MQTT side: 1,000 devices connected to the MQTT front (`iotcloud serve mqtt`), subscribed to their
`$aws/things/{thing}/jobs/#`. The operator creates a job for their group: each device's `notify-next` is timed
from the moment the POST was sent (creation, fan-out and commit included). Then every device runs it over MQTT
(start-next, then update to SUCCEEDED with its expectedVersion): transitions per second, against a floor of
the same server's plain publish round trips (QoS 1 PUBLISH to a topic it only acknowledges), as many, at the
same concurrency."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson

from bench.context import Ctx
from bench.data import admin_token, device_id, device_token, seed_group, truncate_jobs
from bench.env import Service
from bench.mqtt_client import BenchDevice
from bench.stats import Measure, Result, ratio
from shared.infra.db import connect
from simulator.stats import percentile

DEVICES = 1_000
GROUP = "b7m"


async def _run_job(d: BenchDevice) -> None:
    await d.publish(f"$aws/things/{d.thing}/jobs/start-next", b'{"clientToken": "s"}')
    _, body = await d.expect("/start-next/accepted")
    execution = orjson.loads(body)["execution"]
    update = {"status": "SUCCEEDED", "expectedVersion": execution["versionNumber"], "clientToken": "u"}
    await d.publish(f"$aws/things/{d.thing}/jobs/{execution['jobId']}/update", orjson.dumps(update))
    await d.expect("/update/accepted")


async def _floor(d: BenchDevice) -> None:
    for _ in range(2):  # as many round trips as the two requests above
        await d.publish(f"$aws/things/{d.thing}/jobs/notify", b"{}")


async def run(ctx: Ctx, mqtt: Service, ui: Service) -> list[Result]:
    owner = await connect(ctx.db.owner_url)
    try:
        await truncate_jobs(owner)
        await seed_group(owner, "bench", GROUP, DEVICES)
    finally:
        await owner.close()
    devices = [BenchDevice(mqtt.port, f"bench:{device_id('dev', i)}", device_token("bench", i))
               for i in range(1, DEVICES + 1)]  # fmt: skip
    for start in range(0, DEVICES, 100):
        await asyncio.gather(*(d.connect() for d in devices[start : start + 100]))
    headers = {"Authorization": f"Bearer {await admin_token(ctx.db.app_url, 'bench')}"}
    p99, p50 = Measure("notify-next p99", "ms"), Measure("p50", "ms")
    ours, floor = Measure("MQTT transitions", "/s"), Measure("plain PUBLISH round trips", "/s")
    try:
        async with httpx.AsyncClient(base_url=ui.url, headers=headers, timeout=60) as api:
            for rep in range(ctx.sizes.reps):
                for d in devices:  # what earlier reps left (the empty notify-next after a job's end)
                    while not d.received.empty():
                        d.received.get_nowait()
                waiting = [asyncio.create_task(d.expect("/notify-next")) for d in devices]
                sent = time.perf_counter()
                r = await api.post("/customer/jobs", json={"document_type": "b7", "target_group_id": GROUP,
                                                           "job_id": f"b7m-{rep + 1}"})  # fmt: skip
                assert r.status_code == 201, r.text
                latencies = sorted((at - sent) * 1000 for at, _ in await asyncio.gather(*waiting))
                p50.values.append(percentile(latencies, 50))
                p99.values.append(percentile(latencies, 99))
                t0 = time.perf_counter()
                await asyncio.gather(*(_run_job(d) for d in devices))
                ours.values.append(2 * DEVICES / (time.perf_counter() - t0))
                t0 = time.perf_counter()
                await asyncio.gather(*(_floor(d) for d in devices))
                floor.values.append(2 * DEVICES / (time.perf_counter() - t0))
                ctx.log(
                    f"B7 MQTT rep {rep + 1}: notify-next p50 {p50.values[-1]:.0f} ms "
                    f"p99 {p99.values[-1]:.0f} ms; "
                    f"{ours.values[-1]:,.0f} transitions/s, floor {floor.values[-1]:,.0f} round trips/s"
                )
    finally:
        await asyncio.gather(*(d.close() for d in devices))
    r = ratio(ours, floor)
    return [
        Result("B7 notify latency (MQTT notify-next)", p99, None, None, "p99 < 500 ms", p99.median < 500,
               f"{DEVICES:,} MQTT devices, from POST /customer/jobs sent; p50 {p50.median:.0f} ms",
               extra={"p50": p50.to_json(), "devices": DEVICES}),
        Result(f"B7 MQTT transitions ({DEVICES:,} devices)", ours, floor, r, "reported", None,
               "start-next + update over MQTT (group commit), against QoS 1 PUBLISH round trips of the "
               "same server"),
    ]  # fmt: skip

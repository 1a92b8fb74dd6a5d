"""Simulated devices: poll, claim, report progress and complete, and also send illegal, duplicate and
stale updates. Every 200 answer to an update is recorded as an acknowledgement to check later."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.integration.reliability.invariants import Ack

JOBS = "/device/v1/jobs"


@dataclass
class Fleet:
    tenant_id: str
    tokens: dict[str, str]
    clients: list[httpx.AsyncClient]
    seed: int = 7
    acks: list[Ack] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    transport_errors: int = 0
    unavailable: int = 0
    requests: int = 0
    concurrency: int = 48

    def __post_init__(self) -> None:
        self._sem = asyncio.Semaphore(self.concurrency)

    async def _send(self, rng: random.Random, method: str, url: str, token: str, **kw: Any) -> httpx.Response:
        """One request to a random replica. A broken connection (a replica was killed) or a 503 (the
        database is down) is retried, as a device would; an update whose answer was lost is not
        acknowledged, so it is not recorded."""
        for attempt in range(300):
            api = rng.choice(self.clients)
            try:
                async with self._sem:
                    self.requests += 1
                    r = await api.request(method, url, headers={"X-Provision-Token": token}, **kw)
            except httpx.TransportError:
                self.transport_errors += 1
                await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
                continue
            if r.status_code != 503:
                return r
            self.unavailable += 1
            if r.json().get("error") != "unavailable":
                self.unexpected.append(f"{method} {url}: 503 without a clear error: {r.text[:200]}")
            await asyncio.sleep(0.25)
        raise RuntimeError(f"{method} {url}: no replica answered")

    async def _put(
        self, rng: random.Random, device: str, job: str, body: dict[str, Any], expect: set[int]
    ) -> dict[str, Any] | None:
        r = await self._send(rng, "PUT", f"{JOBS}/{job}/execution", self.tokens[device], json=body)
        if r.status_code not in expect:
            self.unexpected.append(f"{device} {job} {body} -> {r.status_code} {r.text[:200]}")
            return None
        if r.status_code != 200:
            return None
        state: dict[str, Any] = r.json()
        self.acks.append(Ack(self.tenant_id, job, device, state["execution_number"], state["status"]))
        return state

    async def _work(self, rng: random.Random, device: str, job: dict[str, Any]) -> None:
        jid, n = job["job_id"], job["execution_number"]
        if job["status"] == "QUEUED":
            if rng.random() < 0.15:  # illegal: QUEUED cannot succeed
                await self._put(rng, device, jid, {"status": "SUCCEEDED"}, {409})
            if rng.random() < 0.08:  # the device declines the job
                await self._put(rng, device, jid, {"status": "REJECTED"}, {200, 409})
                return
            claimed = await self._put(
                rng, device, jid, {"status": "IN_PROGRESS", "expected_execution_number": n}, {200, 409}
            )
            if claimed is None:  # canceled, expired or timed out meanwhile: the 409 is the right answer
                return
            if rng.random() < 0.3:  # stale: the number it just used is no longer current
                await self._put(
                    rng, device, jid, {"status": "IN_PROGRESS", "expected_execution_number": n}, {409}
                )
            n = claimed["execution_number"]
        progress = await self._put(
            rng, device, jid, {"status": "IN_PROGRESS", "status_details": {"pct": 50}}, {200}
        )
        n = progress["execution_number"] if progress else n
        final = {
            "status": rng.choice(["SUCCEEDED"] * 7 + ["FAILED"] * 2 + ["REJECTED"]),
            "status_details": {"by": device},
            "expected_execution_number": n,
        }
        done = await self._put(rng, device, jid, final, {200})
        if done is not None and rng.random() < 0.3:  # duplicate of the final update: same state back
            again = await self._put(rng, device, jid, final | {"expected_execution_number": None}, {200})
            if again is not None and again["execution_number"] != done["execution_number"]:
                self.unexpected.append(f"duplicate update moved {device} {jid}: {again}")
        if rng.random() < 0.15:  # illegal: nothing leaves a terminal status
            await self._put(rng, device, jid, {"status": "IN_PROGRESS"}, {409})

    async def device(self, device: str, operators_done: asyncio.Event) -> None:
        rng = random.Random(f"{self.seed}-{device}")
        while True:
            r = await self._send(rng, "GET", f"{JOBS}/pending", self.tokens[device])
            if r.status_code != 200:
                self.unexpected.append(f"{device} pending -> {r.status_code} {r.text[:200]}")
                return
            jobs = r.json()["jobs"]
            if not jobs:
                if operators_done.is_set():
                    return
                await asyncio.sleep(rng.uniform(0.8, 1.6))
                continue
            for job in jobs:
                await self._work(rng, device, job)

    async def run(self, operators_done: asyncio.Event) -> None:
        await asyncio.gather(*(self.device(d, operators_done) for d in self.tokens))

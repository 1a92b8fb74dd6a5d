"""Fleet simulator: N virtual devices in one asyncio process poll the device API, claim their pending
executions, report progress, and finish them as SUCCEEDED, FAILED or REJECTED at configured rates.

Two device flows (SimConfig.flow): "poll" polls the pending list and claims each execution with an update;
"start-next" asks POST /device/v1/jobs/start-next instead, which claims the next one in the same call (as
AWS's StartNextPendingJobExecution), and asks again at once after finishing while more are pending."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson

from simulator.http import HTTP_ERRORS, HttpClient, make_client
from simulator.stats import SimStats

OUTCOMES = ("SUCCEEDED", "FAILED", "REJECTED")
FLOWS = ("poll", "start-next")
Flow = Literal["poll", "start-next"]


@dataclass(frozen=True)
class SimConfig:
    device_url: str = "http://localhost:8080"
    poll_interval: float = 5.0  # seconds between a device's polls, before jitter
    jitter: float = 0.2  # +- this fraction of poll_interval
    start_spread: float | None = None  # first polls spread over this many seconds (None: poll_interval)
    run_seconds: float = 2.0  # how long a device "runs" an execution
    progress_steps: int = 2  # IN_PROGRESS progress updates while running
    success_rate: float = 0.9
    fail_rate: float = 0.08
    reject_rate: float = 0.02
    connections: int = 64  # requests in flight at once, over all devices
    duration: float | None = None  # stop after this many seconds
    until_idle: bool = False  # stop once the fleet has had no work for idle_seconds
    idle_seconds: float | None = None  # None: 2 poll intervals + run_seconds
    stop_after_finished: int | None = None  # stop once this many executions reached a terminal status
    timeout: float = 30.0
    seed: int | None = None
    flow: Flow = "poll"  # how a device finds and claims its work (see the module's docstring)

    def validate(self) -> None:
        if self.flow not in FLOWS:
            raise ValueError(f"flow must be one of {', '.join(FLOWS)}")
        rates = (self.success_rate, self.fail_rate, self.reject_rate)
        if any(r < 0 for r in rates) or sum(rates) <= 0:
            raise ValueError("outcome rates must be >= 0 and not all 0")
        if self.poll_interval <= 0 or not 0 <= self.jitter < 1:
            raise ValueError("poll interval must be > 0 and jitter in [0, 1)")
        if self.run_seconds < 0 or self.progress_steps < 0 or self.connections < 1:
            raise ValueError("run seconds and progress steps must be >= 0, connections >= 1")

    @property
    def idle_after(self) -> float:
        if self.idle_seconds is not None:
            return self.idle_seconds
        return 2 * self.poll_interval * (1 + self.jitter) + self.run_seconds + 1.0


def pick_outcome(rng: random.Random, config: SimConfig) -> str:
    """SUCCEEDED, FAILED or REJECTED with probabilities proportional to the configured rates."""
    weights = (config.success_rate, config.fail_rate, config.reject_rate)
    return rng.choices(OUTCOMES, weights=weights)[0]


def jittered(rng: random.Random, interval: float, jitter: float) -> float:
    """`interval` +- `jitter` (a fraction of it), uniformly."""
    return interval * (1 + rng.uniform(-jitter, jitter))


def progress_details(step: int, steps: int) -> dict[str, Any]:
    """status_details of the step-th of `steps` progress updates (step 0 is the claim)."""
    pct = round(100 * step / (steps + 1))
    return {"progress": pct, "step": "claimed" if step == 0 else f"step {step} of {steps}"}


def outcome_details(outcome: str) -> dict[str, Any]:
    messages = {
        "SUCCEEDED": "done",
        "FAILED": "simulated failure",
        "REJECTED": "simulated rejection: device declined the job",
    }
    return {"progress": 100 if outcome == "SUCCEEDED" else None, "message": messages[outcome]}


class Fleet:
    """Runs the virtual devices of `tokens` ({device_id: provision token}) until told to stop."""

    def __init__(
        self,
        tokens: Mapping[str, str],
        config: SimConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        config.validate()
        self.tokens = dict(tokens)
        self.config = config
        self.stats = SimStats()
        self.stop_event = asyncio.Event()
        self.rng = random.Random(config.seed)
        self._gate = asyncio.Semaphore(config.connections)
        self.client: HttpClient = make_client(
            config.device_url, config.connections, config.timeout, transport
        )

    def stop(self) -> None:
        self.stop_event.set()

    async def _call(
        self, kind: str, method: str, path: str, token: str, body: dict[str, Any] | None = None
    ) -> tuple[int | None, Any]:
        headers = [("X-Provision-Token", token)]
        content = None
        if body is not None:
            content = orjson.dumps(body)
            headers.append(("Content-Type", "application/json"))
        async with self._gate:
            t0 = time.perf_counter()
            try:
                status, raw = await self.client.request(method, path, headers, content)
            except HTTP_ERRORS as exc:
                self.stats.request(kind, time.perf_counter() - t0, None, type(exc).__name__)
                return None, None
            elapsed = time.perf_counter() - t0
        self.stats.request(kind, elapsed, status)
        try:
            data = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            data = None
        return status, data

    async def _sleep(self, seconds: float) -> bool:
        """Sleeps unless stopped first; True when the fleet is stopping."""
        if seconds <= 0:
            return self.stop_event.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_event.wait(), seconds)
        return self.stop_event.is_set()

    async def _update(
        self, token: str, job_id: str, status: str, details: dict[str, Any], number: int
    ) -> int | None:
        """PUT the execution; returns its new execution_number, or None when refused or failed."""
        body = {"status": status, "status_details": details, "expected_execution_number": number}
        code, data = await self._call("update", "PUT", f"/device/v1/jobs/{job_id}/execution", token, body)
        if code == 200 and isinstance(data, dict):
            self.stats.updates[status] += 1
            self.stats.work()
            new_number: int = data["execution_number"]
            return new_number
        if code == 409:
            self.stats.conflicts += 1
        return None

    async def run_execution(self, token: str, job: dict[str, Any]) -> str | None:
        """Claims (if QUEUED), reports progress, then finishes one execution. Returns its final status."""
        cfg = self.config
        number: int | None = job["execution_number"]
        job_id = job["job_id"]
        if job["status"] == "QUEUED":
            number = await self._update(
                token, job_id, "IN_PROGRESS", progress_details(0, cfg.progress_steps), number or 1
            )
            if number is None:
                return None
        pause = cfg.run_seconds / (cfg.progress_steps + 1)
        for step in range(1, cfg.progress_steps + 1):
            if await self._sleep(pause):
                return None
            assert number is not None
            number = await self._update(
                token, job_id, "IN_PROGRESS", progress_details(step, cfg.progress_steps), number
            )
            if number is None:
                return None
        if await self._sleep(pause):
            return None
        outcome = pick_outcome(self.rng, cfg)
        assert number is not None
        if await self._update(token, job_id, outcome, outcome_details(outcome), number) is None:
            return None
        self.stats.finished[outcome] += 1
        if (
            cfg.stop_after_finished is not None
            and sum(self.stats.finished.values()) >= cfg.stop_after_finished
        ):
            self.stop()
        return outcome

    async def device(self, device_id: str, token: str) -> None:
        cfg = self.config
        spread = cfg.poll_interval if cfg.start_spread is None else cfg.start_spread
        if await self._sleep(self.rng.uniform(0, spread)):
            return
        if cfg.flow == "start-next":
            await self._start_next_loop(token)
            return
        while not self.stop_event.is_set():
            code, data = await self._call("poll", "GET", "/device/v1/jobs/pending", token)
            self.stats.polls += 1
            jobs = data.get("jobs", []) if code == 200 and isinstance(data, dict) else []
            if jobs:
                self.stats.jobs_seen += len(jobs)
                self.stats.work()
            for job in jobs:
                if self.stop_event.is_set():
                    return
                await self.run_execution(token, job)
            if await self._sleep(jittered(self.rng, cfg.poll_interval, cfg.jitter)):
                return

    async def _start_next_loop(self, token: str) -> None:
        """The start-next flow: each call claims the next execution; while more are pending, the device asks
        again as soon as it has finished one, else at its next poll."""
        cfg = self.config
        while not self.stop_event.is_set():
            code, data = await self._call("start-next", "POST", "/device/v1/jobs/start-next", token)
            self.stats.polls += 1
            execution = data.get("execution") if code == 200 and isinstance(data, dict) else None
            if execution is not None:
                self.stats.jobs_seen += 1
                self.stats.starts += 1
                self.stats.work()
                await self.run_execution(token, execution)
                if data.get("more_pending"):
                    continue
            if await self._sleep(jittered(self.rng, cfg.poll_interval, cfg.jitter)):
                return

    async def _watch(self) -> None:
        cfg = self.config
        warmup = (cfg.poll_interval if cfg.start_spread is None else cfg.start_spread) + cfg.poll_interval
        while not self.stop_event.is_set():
            now = time.monotonic()
            if cfg.duration is not None and self.stats.elapsed >= cfg.duration:
                self.stop()
            elif (
                cfg.until_idle
                and self.stats.elapsed >= warmup
                and now - self.stats.last_work >= cfg.idle_after
            ):
                self.stop()
            await self._sleep(0.1)

    async def run(self, on_tick: Callable[[SimStats], None] | None = None, tick: float = 0.25) -> SimStats:
        """Runs every device until stopped (stop(), duration, idleness or the finished count)."""
        self.stats = SimStats()
        tasks = [asyncio.create_task(self.device(d, t)) for d, t in self.tokens.items()]
        watcher = asyncio.create_task(self._watch())
        try:
            while not self.stop_event.is_set():
                if on_tick is not None:
                    on_tick(self.stats)
                await self._sleep(tick)
                if all(t.done() for t in tasks):
                    break
            self.stop()
            grace = self.config.timeout + 1
            _, pending = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
            for t in pending:
                t.cancel()
            await asyncio.gather(*tasks, watcher, return_exceptions=True)
        finally:
            for t in (*tasks, watcher):
                t.cancel()
            await self.client.aclose()
        if on_tick is not None:
            on_tick(self.stats)
        return self.stats


def install_stop_signals(fleet: Fleet) -> Callable[[], None]:
    """Ctrl-C (and SIGTERM) stop the fleet cleanly; a second Ctrl-C is left to Python. Returns an undo."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        fleet.stop()
        loop.remove_signal_handler(signal.SIGINT)

    loop.add_signal_handler(signal.SIGINT, first)
    loop.add_signal_handler(signal.SIGTERM, fleet.stop)

    def undo() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    return undo

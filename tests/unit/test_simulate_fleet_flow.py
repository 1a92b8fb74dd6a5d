"""The simulator's device loop against a small in-process device API (ASGI, no network): the order of
its requests, expected_execution_number, stopping, and how it counts server errors."""

from __future__ import annotations

import json
from typing import Any

import httpx

from simulator.engine import Fleet, SimConfig


class FakeDeviceAPI:
    """Just enough of the device API: one execution per device, numbered like the real one."""

    def __init__(self, fail_polls: bool = False) -> None:
        self.executions: dict[str, dict[str, Any]] = {}
        self.puts: list[tuple[str, dict[str, Any]]] = []
        self.fail_polls = fail_polls

    def add(self, token: str, job_id: str) -> None:
        self.executions[token] = {"job_id": job_id, "status": "QUEUED", "execution_number": 1}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        headers = dict(scope["headers"])
        token = headers[b"x-provision-token"].decode()
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        status, payload = self.handle(scope["method"], scope["path"], token, body)
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def handle(self, method: str, path: str, token: str, body: bytes) -> tuple[int, Any]:
        ex = self.executions.get(token)
        if method == "GET":
            if self.fail_polls:
                return 500, {"error": "internal"}
            active = ex is not None and ex["status"] in ("QUEUED", "IN_PROGRESS")
            return 200, {"jobs": [dict(ex)] if active and ex else []}
        req = json.loads(body)
        self.puts.append((token, req))
        assert ex is not None and path == f"/device/v1/jobs/{ex['job_id']}/execution"
        if req["expected_execution_number"] != ex["execution_number"]:
            return 409, {"error": "conflict"}
        ex["status"] = req["status"]
        ex["execution_number"] += 1
        return 200, {
            "job_id": ex["job_id"],
            "status": ex["status"],
            "execution_number": ex["execution_number"],
        }


FAST = {"poll_interval": 0.02, "jitter": 0.1, "run_seconds": 0.02, "idle_seconds": 0.3, "seed": 3}


async def test_devices_claim_report_progress_and_finish_in_order() -> None:
    api = FakeDeviceAPI()
    tokens = {f"d{i}": f"tok-{i}" for i in range(5)}
    for tok in tokens.values():
        api.add(tok, "job-1")
    cfg = SimConfig(progress_steps=2, until_idle=True, **FAST)  # type: ignore[arg-type]
    fleet = Fleet(tokens, cfg, transport=httpx.ASGITransport(app=api))
    stats = await fleet.run()

    for tok in tokens.values():
        mine = [req for t, req in api.puts if t == tok]
        assert [r["status"] for r in mine[:3]] == ["IN_PROGRESS"] * 3
        assert [r["expected_execution_number"] for r in mine] == [1, 2, 3, 4]
        assert mine[0]["status_details"]["step"] == "claimed"
        assert mine[3]["status"] in ("SUCCEEDED", "FAILED", "REJECTED")
        assert api.executions[tok]["status"] == mine[3]["status"]
    assert sum(stats.finished.values()) == 5
    assert stats.updates["IN_PROGRESS"] == 15
    assert stats.transitions == 20
    assert stats.server_errors == 0 and not stats.errors
    assert stats.polls >= 10  # every device polled again after finishing, then the fleet went idle


async def test_stop_after_finished_count() -> None:
    api = FakeDeviceAPI()
    tokens = {f"d{i}": f"tok-{i}" for i in range(4)}
    for tok in tokens.values():
        api.add(tok, "job-2")
    cfg = SimConfig(progress_steps=0, stop_after_finished=4, **FAST)  # type: ignore[arg-type]
    stats = await Fleet(tokens, cfg, transport=httpx.ASGITransport(app=api)).run()
    assert sum(stats.finished.values()) == 4
    assert all(ex["status"] not in ("QUEUED", "IN_PROGRESS") for ex in api.executions.values())


async def test_server_errors_are_counted_and_duration_stops_the_run() -> None:
    api = FakeDeviceAPI(fail_polls=True)
    cfg = SimConfig(duration=0.4, **FAST)  # type: ignore[arg-type]
    stats = await Fleet({"d": "tok"}, cfg, transport=httpx.ASGITransport(app=api)).run()
    assert stats.server_errors >= 2
    assert stats.errors["500"] == stats.server_errors
    assert stats.summary()["elapsed_s"] < 3

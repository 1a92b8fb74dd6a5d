"""The fast lane (shared/web/fast_lane.py) answers its routes exactly as the middleware stack would: the
same device API is served twice over real HTTP, once with its hot routes in the fast lane and once without,
and every request below, good or bad, gets the same status, body and headers from both. Then what only the
lane's own code does: the request hook's metrics, and an unhandled error's 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request, Response

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from shared.observability import metrics
from shared.web.fast_lane import FastLane
from shared.web.lean_route import LeanRoute
from shared.web.service_app import ServiceApp, build_app
from tests.conftest import Services, Tenant
from tests.support.servers import LiveServer

VOLATILE = {"date", "x-request-id"}


@pytest.fixture
async def both(services: Services, settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """(fast lane URL, stack-only URL): the same device API over the same database."""
    fast = create_device_app(settings, services.db.app_url)
    plain = create_device_app(settings, services.db.app_url)
    plain.fast_routes = ()
    servers = [await LiveServer(fast).start(), await LiveServer(plain).start()]
    try:
        assert isinstance(fast.middleware_stack, FastLane)
        assert not isinstance(plain.middleware_stack, FastLane)
        yield servers[0].url, servers[1].url
    finally:
        for s in servers:
            await s.stop()


async def _chunks(n: int) -> AsyncIterator[bytes]:
    yield b'{"status": "IN_PROGRESS", "status_details": {"x": "'
    for _ in range(n):
        yield b"a" * 1024
    yield b'"}}'


async def _same(
    urls: tuple[str, str], method: str, path: str, chunks: int | None = None, **kw: Any
) -> httpx.Response:
    """The request sent to both servers (`chunks`: a streamed body of that many KiB, no Content-Length);
    their answers must not differ."""
    answers = []
    for url in urls:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            if chunks is not None:
                kw["content"] = _chunks(chunks)
            answers.append(await c.request(method, path, **kw))
    fast, plain = answers
    assert fast.status_code == plain.status_code, (path, fast.text, plain.text)
    assert fast.content == plain.content, (path, fast.text, plain.text)
    drop = VOLATILE | {"etag"} if fast.status_code != 200 else VOLATILE
    assert {k: v for k, v in fast.headers.items() if k not in drop} == {
        k: v for k, v in plain.headers.items() if k not in drop
    }, path
    assert fast.headers.get("x-request-id") and plain.headers.get("x-request-id")
    return fast


async def test_the_lane_and_the_stack_answer_alike(both: tuple[str, str], tenant: Tenant) -> None:
    [dev, idle] = await tenant.create_devices(2, prefix="lane")
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "t", "target_device_id": dev})
        assert r.status_code == 201, r.text
        job = r.json()["job_id"]
    token = {"X-Provision-Token": tenant.tokens[dev]}
    bad = {"X-Provision-Token": "nope"}
    pending = "/device/v1/jobs/pending"
    update = f"/device/v1/jobs/{job}/execution"

    r = await _same(both, "GET", pending, headers=token)
    assert r.status_code == 200 and r.json()["jobs"][0]["job_id"] == job
    await _same(both, "GET", pending, headers=token | {"If-None-Match": r.headers["etag"]})  # 304
    await _same(both, "GET", pending, headers={"X-Provision-Token": tenant.tokens[idle]})
    await _same(both, "HEAD", pending, headers=token)
    await _same(both, "GET", pending, headers=token | {"X-Request-ID": "fixed-id-1"})
    for headers, params in (({}, {}), (bad, {}), (token, {"wait": "x"}), (token, {"wait": "61"})):
        r = await _same(both, "GET", pending, headers=headers, params=params)
        assert r.status_code in (401, 422)
    r = await _same(both, "GET", pending, headers={"X-Provision-Token": "t" * 600})
    assert r.status_code == 422
    r = await _same(both, "POST", pending, headers=token)  # another method: both through the stack
    assert r.status_code == 405

    refusals = [
        ({"status": "SUCCEEDED", "expected_execution_number": 7}, 409),
        ({"status": "QUEUED"}, 422),
        ({"status": "IN_PROGRESS", "extra": 1}, 422),
        ({"status": "SUCCEEDED", "step_timeout_minutes": 5}, 422),
    ]
    for body, code in refusals:
        r = await _same(both, "PUT", update, headers=token, json=body)
        assert r.status_code == code, r.text
    r = await _same(
        both, "PUT", "/device/v1/jobs/no-such-job/execution", headers=token, json={"status": "FAILED"}
    )
    assert r.status_code == 404
    r = await _same(both, "PUT", update, headers=token, content=b"{not json")
    assert r.status_code == 422
    r = await _same(both, "PUT", update, headers=token | {"Content-Type": "text/plain"}, content=b"{}")
    assert r.status_code == 422
    r = await _same(both, "PUT", update, headers=token | {"Content-Type": "application/json"},
                    content=b"\xff\xfe")  # fmt: skip
    assert r.status_code == 422
    big = b'{"status": "FAILED", "status_details": {"x": "' + b"a" * 70_000 + b'"}}'
    r = await _same(both, "PUT", update, headers=token | {"Content-Type": "application/json"}, content=big)
    assert r.status_code == 413
    r = await _same(both, "PUT", update, headers=token | {"Content-Type": "application/json"}, chunks=80)
    assert r.status_code == 413
    r = await _same(both, "PUT", update, headers=bad, json={"status": "IN_PROGRESS"})
    assert r.status_code == 401
    r = await _same(
        both, "POST", "/device/v1/jobs/start-next", headers=token, json={"step_timeout_minutes": 0}
    )
    assert r.status_code == 422
    r = await _same(both, "POST", "/device/v1/jobs/start-next", headers=bad)
    assert r.status_code == 401

    async with tenant.device_api(dev) as device:  # nothing above moved the execution
        assert (await device.get(f"/device/v1/jobs/{job}/execution")).json()["status"] == "QUEUED"


def _count(route: str, method: str, status: str) -> float:
    value: float = metrics.HTTP_REQUESTS.labels("device", method, route, status)._value.get()
    return value


async def test_the_lane_counts_its_requests(both: tuple[str, str], tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="lanem")
    before = _count("/device/v1/jobs/pending", "GET", "200"), _count("/device/v1/jobs/pending", "GET", "401")
    async with httpx.AsyncClient(base_url=both[0], timeout=30) as c:
        for _ in range(3):
            r = await c.get("/device/v1/jobs/pending", headers={"X-Provision-Token": tenant.tokens[dev]})
            assert r.status_code == 200
        assert (await c.get("/device/v1/jobs/pending")).status_code == 401
    after = _count("/device/v1/jobs/pending", "GET", "200"), _count("/device/v1/jobs/pending", "GET", "401")
    assert (after[0] - before[0], after[1] - before[1]) == (3, 1)


async def test_an_unhandled_error_is_a_500_with_the_usual_headers(settings: Settings) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug")

    answers = []
    for fast in (True, False):
        app: ServiceApp = build_app(
            service="device",
            title="t",
            description="t",
            settings=settings,
            dsn="postgresql://u@h/x",
            max_body=10,
        )
        hot = APIRouter(route_class=LeanRoute)
        hot.add_api_route("/boom", boom, methods=["GET"])
        app.include_router(hot)
        if fast:
            app.serve_fast(hot.routes)
        server = await LiveServer(app).start()
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
                answers.append(await c.get("/boom", headers={"X-Request-ID": "req-500"}))
        finally:
            await server.stop()
    for r in answers:
        assert r.status_code == 500 and r.text == "Internal Server Error"
        assert r.headers["x-request-id"] == "req-500"
        assert (
            r.headers["x-frame-options"] == "DENY"
            and "default-src 'none'" in r.headers["content-security-policy"]
        )

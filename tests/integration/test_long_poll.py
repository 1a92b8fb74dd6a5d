"""The device poll over real HTTP: long-poll (?wait=N) answered by each event that makes a job reach the
device (its own job, a group job, a rollout's release, a retry), else empty after the wait; ETag and
If-None-Match (304, and the waiting variant); the sleep hint; one statement without `wait`; the fallback
when notifications are lost and the listener's reconnection; 300 waiters answered by one group job; the
waiters' limit (503); bad `wait` values (422); shutdown answering waiters at once.

A device API of its own (its fallback period set per test), on the session's database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from ingest_iot.app import create_app as create_device_app
from ingest_iot.long_poll import LongPolls
from shared.infra.config import Settings
from shared.jobs.rollout import run_rollout_tick
from tests.conftest import Services, Tenant
from tests.support.servers import LiveServer

PATH = "/device/v1/jobs/pending"
FALLBACK = 20.0  # the fallback period of these tests' server: an answer well before it came by notification
QUICK = 10.0  # a generous bound for "at once" and "by notification"
T0 = datetime(2035, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
async def poll_server(services: Services, settings: Settings) -> AsyncIterator[LiveServer]:
    tuned = settings.model_copy(update={"poll_fallback_seconds": FALLBACK, "poll_waiters_max": 1000})
    server = await LiveServer(create_device_app(tuned, services.db.app_url)).start()
    await asyncio.wait_for(_polls(server).listener.connected.wait(), QUICK)
    yield server
    await server.stop()


def _polls(server: LiveServer) -> LongPolls:
    polls: LongPolls = server.app.state.long_polls
    return polls


def _client(server: LiveServer, tenant: Tenant, device: str, **kw: Any) -> httpx.AsyncClient:
    headers = {"X-Provision-Token": tenant.tokens[device]}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=90, **kw)


async def _get(
    server: LiveServer, tenant: Tenant, device: str, wait: int | None = None, etag: str | None = None
) -> httpx.Response:
    params = {"wait": str(wait)} if wait is not None else {}
    headers = {"If-None-Match": etag} if etag else {}
    async with _client(server, tenant, device) as c:
        return await c.get(PATH, params=params, headers=headers)


async def _waiting(server: LiveServer, tenant: Tenant, n: int) -> None:
    """Until `n` long-polls of the tenant wait in the server."""
    polls = _polls(server)
    for _ in range(int(QUICK / 0.02)):
        if polls.waiters.waiting_in(tenant.tenant_id) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{n} waiters expected")


async def _post(tenant: Tenant, **body: Any) -> None:
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", **body})
        assert r.status_code == 201, r.text


def _job_ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [j["job_id"] for j in r.json()["jobs"]]


async def test_a_job_for_the_device_answers_its_long_poll(poll_server: LiveServer, tenant: Tenant) -> None:
    dev, other = await tenant.create_devices(2, prefix="lp")
    t0 = time.monotonic()
    mine = asyncio.create_task(_get(poll_server, tenant, dev, wait=60))
    theirs = asyncio.create_task(_get(poll_server, tenant, other, wait=3))
    await _waiting(poll_server, tenant, 2)
    await _post(tenant, job_id="j1", target_device_id=dev)
    r = await mine
    assert _job_ids(r) == ["j1"] and time.monotonic() - t0 < QUICK
    assert r.json()["poll"] == {"sleep_seconds": 5}  # work pending: the shorter hint
    r = await theirs  # another device's job does not answer it: empty after its wait
    assert r.status_code == 200 and r.json() == {"jobs": [], "poll": {"sleep_seconds": 30}}


async def test_a_group_job_answers_its_members(poll_server: LiveServer, tenant: Tenant) -> None:
    devs = await tenant.create_devices(3, prefix="lg")
    await tenant.create_group("lg", devs)
    t0 = time.monotonic()
    polls = [asyncio.create_task(_get(poll_server, tenant, d, wait=60)) for d in devs]
    await _waiting(poll_server, tenant, 3)
    await _post(tenant, job_id="g1", target_group_id="lg")
    assert [_job_ids(await p) for p in polls] == [["g1"]] * 3
    assert time.monotonic() - t0 < QUICK


async def test_a_rollout_release_answers_the_devices_it_reaches(
    poll_server: LiveServer, tenant: Tenant, clock: Services, app_pool: asyncpg.Pool
) -> None:
    devs = await tenant.create_devices(2, prefix="lr")
    clock.set_clock(T0)
    await _post(tenant, job_id="r1", target_all=True, rollout_config={"maximum_per_minute": 1})
    assert [_job_ids(await _get(poll_server, tenant, d)) for d in devs] == [[], []]  # not reached yet
    t0 = time.monotonic()
    polls = [asyncio.create_task(_get(poll_server, tenant, d, wait=60)) for d in devs]
    await _waiting(poll_server, tenant, 2)
    await run_rollout_tick(app_pool, T0)  # reaches the first device (one a minute)
    done, waiting = await asyncio.wait(polls, return_when=asyncio.FIRST_COMPLETED)
    assert [_job_ids(p.result()) for p in done] == [["r1"]] and time.monotonic() - t0 < QUICK
    await run_rollout_tick(app_pool, T0.replace(minute=1))  # and the second one
    [rest] = waiting
    assert _job_ids(await rest) == ["r1"] and time.monotonic() - t0 < 2 * QUICK


async def test_a_retry_answers_a_long_poll_waiting_for_a_change(
    poll_server: LiveServer, tenant: Tenant
) -> None:
    [dev] = await tenant.create_devices(1, prefix="lt")
    retry = {"criteria_list": [{"failure_type": "FAILED", "number_of_retries": 1}]}
    await _post(tenant, job_id="t1", target_device_id=dev, retry_config=retry)
    async with _client(poll_server, tenant, dev) as c:
        r = await c.put("/device/v1/jobs/t1/execution", json={"status": "IN_PROGRESS"})
        assert r.status_code == 200, r.text
        held = await c.get(PATH)
        assert [j["status"] for j in held.json()["jobs"]] == ["IN_PROGRESS"]
        etag = held.headers["etag"]
        t0 = time.monotonic()
        poll = asyncio.create_task(c.get(PATH, params={"wait": "60"}, headers={"If-None-Match": etag}))
        await _waiting(poll_server, tenant, 1)
        r = await c.put("/device/v1/jobs/t1/execution", json={"status": "FAILED"})
        assert r.status_code == 200, r.text
        r = await poll  # the retry queued it again: a new list, a new ETag
        assert r.status_code == 200 and time.monotonic() - t0 < QUICK
        [job] = r.json()["jobs"]
        assert (job["status"], job["execution_number"]) == ("QUEUED", 4) and r.headers["etag"] != etag


async def test_nothing_comes_empty_after_the_wait(poll_server: LiveServer, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="le")
    t0 = time.monotonic()
    r = await _get(poll_server, tenant, dev, wait=1)
    assert r.status_code == 200 and r.json() == {"jobs": [], "poll": {"sleep_seconds": 30}}
    assert 0.9 <= time.monotonic() - t0 < QUICK
    assert _polls(poll_server).waiters.waiting_in(tenant.tenant_id) == 0  # it left


async def test_etag_and_if_none_match(poll_server: LiveServer, tenant: Tenant) -> None:
    [dev] = await tenant.create_devices(1, prefix="et")
    empty = await _get(poll_server, tenant, dev)
    tag = empty.headers["etag"]
    assert tag.startswith('W/"') and (await _get(poll_server, tenant, dev)).headers["etag"] == tag
    r = await _get(poll_server, tenant, dev, etag=tag)
    assert (r.status_code, r.content, r.headers["etag"]) == (304, b"", tag)
    r = await _get(poll_server, tenant, dev, etag=tag.removeprefix("W/"))  # weak comparison
    assert r.status_code == 304
    r = await _get(poll_server, tenant, dev, etag='"other", ' + tag)  # a list
    assert r.status_code == 304
    t0 = time.monotonic()
    r = await _get(poll_server, tenant, dev, wait=1, etag=tag)  # unchanged through the wait: 304
    assert r.status_code == 304 and time.monotonic() - t0 >= 0.9

    waiting = asyncio.create_task(_get(poll_server, tenant, dev, wait=60, etag=tag))
    await _waiting(poll_server, tenant, 1)
    await _post(tenant, job_id="e1", target_device_id=dev)
    r = await waiting
    assert _job_ids(r) == ["e1"] and r.headers["etag"] != tag
    new = r.headers["etag"]
    assert (await _get(poll_server, tenant, dev, etag=new)).status_code == 304
    r = await _get(poll_server, tenant, dev, etag=tag)  # the device's list is out of date: 200 at once
    assert _job_ids(r) == ["e1"]
    r = await _get(poll_server, tenant, dev, wait=60, etag=tag)
    assert _job_ids(r) == ["e1"]
    assert (await _get(poll_server, tenant, dev, etag="*")).status_code == 304


COUNTED = ("fetch", "fetchrow", "fetchval", "execute", "executemany")


class Counting:
    """A pool or a connection, counting the statements sent through it (and through the connections taken
    out of it)."""

    def __init__(self, target: Any, statements: list[str] | None = None) -> None:
        self.target = target
        self.statements: list[str] = [] if statements is None else statements

    @property
    def pool(self) -> Any:
        return self.target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.target, name)
        if name in COUNTED:

            async def counted(query: str, *args: Any, **kw: Any) -> Any:
                self.statements.append(query)
                return await attr(query, *args, **kw)

            return counted
        if name == "acquire":

            @asynccontextmanager
            async def acquire(*args: Any, **kw: Any) -> AsyncIterator[Counting]:
                async with attr(*args, **kw) as conn:
                    yield Counting(conn, self.statements)

            return acquire
        return attr


async def test_the_poll_is_one_statement_without_wait(poll_server: LiveServer, tenant: Tenant) -> None:
    dev, idle = await tenant.create_devices(2, prefix="st")
    await _post(tenant, job_id="s1", target_device_id=dev)
    state = poll_server.app.state
    counting = Counting(state.pool)
    state.pool = counting
    try:
        for device, jobs in ((dev, ["s1"]), (idle, [])):
            counting.statements.clear()
            assert _job_ids(await _get(poll_server, tenant, device)) == jobs
            assert counting.statements == ["SELECT * FROM iotcloud.device_polls($1, $2, $3, $4)"]
        counting.statements.clear()
        assert _job_ids(await _get(poll_server, tenant, dev, wait=30)) == ["s1"]  # pending: at once
        assert len(counting.statements) == 2  # who the device is, then the poll
    finally:
        state.pool = counting.pool


async def test_lost_notifications_only_delay_and_the_listener_reconnects(
    poll_server: LiveServer, tenant: Tenant, services: Services
) -> None:
    dev, other = await tenant.create_devices(2, prefix="ll")
    polls = _polls(poll_server)
    listener = polls.listener
    polls.fallback_seconds = 1.0
    await listener.stop()  # no notification at all: the fallback answers
    try:
        t0 = time.monotonic()
        poll = asyncio.create_task(_get(poll_server, tenant, dev, wait=60))
        await _waiting(poll_server, tenant, 1)
        await _post(tenant, job_id="f1", target_device_id=dev)
        assert _job_ids(await poll) == ["f1"] and time.monotonic() - t0 < 1.0 + QUICK
    finally:
        polls.fallback_seconds = FALLBACK
        listener.start()
    await asyncio.wait_for(listener.connected.wait(), QUICK)
    connects, pid = listener.connects, listener.backend_pid
    admin = await asyncpg.connect(services.db.admin_url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    for _ in range(int(QUICK / 0.05)):  # reconnects, with a new backend
        if listener.connects > connects and listener.connected.is_set():
            break
        await asyncio.sleep(0.05)
    assert listener.connects == connects + 1 and listener.backend_pid not in (None, pid)
    t0 = time.monotonic()  # and notifications answer again
    poll = asyncio.create_task(_get(poll_server, tenant, other, wait=60))
    await _waiting(poll_server, tenant, 1)
    await _post(tenant, job_id="f2", target_device_id=other)
    assert _job_ids(await poll) == ["f2"] and time.monotonic() - t0 < QUICK


async def test_300_waiters_are_all_answered_by_one_group_job(poll_server: LiveServer, tenant: Tenant) -> None:
    devs = await tenant.create_devices(300, prefix="many")
    await tenant.create_group("many", devs)
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=poll_server.url, timeout=90, limits=limits) as c:
        t0 = time.monotonic()
        polls = [
            asyncio.create_task(
                c.get(PATH, params={"wait": "60"}, headers={"X-Provision-Token": tenant.tokens[d]})
            )
            for d in devs
        ]
        await _waiting(poll_server, tenant, 300)
        await _post(tenant, job_id="m1", target_group_id="many")
        answers = await asyncio.gather(*polls)
    assert [_job_ids(r) for r in answers] == [["m1"]] * 300
    assert time.monotonic() - t0 < FALLBACK  # by the notification, not by the fallback


async def test_past_the_waiters_limit_503_yet_pending_work_still_answers(
    poll_server: LiveServer, tenant: Tenant
) -> None:
    dev, busy, late = await tenant.create_devices(3, prefix="lim")
    await _post(tenant, job_id="w1", target_device_id=busy)
    waiters = _polls(poll_server).waiters
    limit = waiters.limit
    waiters.limit = waiters.count + 1
    try:
        first = asyncio.create_task(_get(poll_server, tenant, dev, wait=60))
        await _waiting(poll_server, tenant, 1)
        r = await _get(poll_server, tenant, late, wait=30)
        assert r.status_code == 503 and r.headers["retry-after"] == "30"
        assert r.json()["error"] == "unavailable" and r.json()["retry_after"] == 30
        assert _job_ids(await _get(poll_server, tenant, busy, wait=30)) == ["w1"]  # work: at once
        assert _job_ids(await _get(poll_server, tenant, late)) == []  # no wait: as always
        await _post(tenant, job_id="w2", target_device_id=dev)
        assert _job_ids(await first) == ["w2"]
    finally:
        waiters.limit = limit


@pytest.mark.parametrize("wait", ["-1", "61", "abc", "1.5", "", "1e3"])
async def test_bad_wait_values_are_refused(poll_server: LiveServer, tenant: Tenant, wait: str) -> None:
    [dev] = await tenant.create_devices(1, prefix=f"bw{abs(hash(wait)) % 1000}")
    async with _client(poll_server, tenant, dev) as c:
        r = await c.get(PATH, params={"wait": wait})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["query", "wait"] and r.json()["detail"].startswith("query.wait: ")


async def test_shutdown_answers_waiters_at_once(
    services: Services, settings: Settings, tenant: Tenant
) -> None:
    [dev] = await tenant.create_devices(1, prefix="sd")
    server = await LiveServer(create_device_app(settings, services.db.app_url)).start()
    try:
        poll = asyncio.create_task(_get(server, tenant, dev, wait=60))
        await _waiting(server, tenant, 1)
        t0 = time.monotonic()
    finally:
        await server.stop()
    r = await poll
    assert r.status_code == 200 and r.json()["jobs"] == [] and time.monotonic() - t0 < QUICK
    assert _polls(server).listener.backend_pid is None  # its listener closed with it

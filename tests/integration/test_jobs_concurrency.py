"""Hundreds of devices at once through the live device API: counters never drift, no illegal move slips
through, each job completes exactly once, and the history holds exactly the accepted transitions."""

import asyncio
import random
from collections import Counter
from typing import Any

import httpx

from shared.auth import new_provision_token, token_hash
from shared.infra.db import SET_TENANT, connect
from tests.conftest import Services, Tenant

N = 240
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED"}


async def _register(services: Services, tenant: Tenant, n: int) -> list[str]:
    ids = [f"c-{i:04d}" for i in range(n)]
    tokens = [new_provision_token() for _ in ids]
    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            await conn.executemany(
                "INSERT INTO device_state (tenant_id, device_id, token_hash) VALUES ($1, $2, $3)",
                [(tenant.tenant_id, d, token_hash(t)) for d, t in zip(ids, tokens, strict=True)],
            )
    finally:
        await conn.close()
    tenant.tokens.update(zip(ids, tokens, strict=True))
    return ids


async def test_many_devices_at_once_keep_every_invariant(services: Services, tenant: Tenant) -> None:
    devs = await _register(services, tenant, N)
    await tenant.create_group("fleet", devs)
    async with tenant.api() as api:
        a = (
            await api.post(
                "/customer/jobs", json={"document_type": "fw", "target_group_id": "fleet", "job_id": "job-a"}
            )
        ).json()
        b = (
            await api.post(
                "/customer/jobs", json={"document_type": "cfg", "target_all": True, "job_id": "job-b"}
            )
        ).json()
    assert a["execution_count"] == N and b["execution_count"] == N

    accepted: Counter[str] = Counter()  # accepted state changes (events expected)
    statuses: Counter[int] = Counter()
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=services.device.url, limits=limits, timeout=60) as client:

        async def put(dev: str, job: str, body: dict[str, Any]) -> httpx.Response:
            r = await client.put(
                f"/device/v1/jobs/{job}/execution",
                json=body,
                headers={"X-Provision-Token": tenant.tokens[dev]},
            )
            statuses[r.status_code] += 1
            assert r.status_code in (200, 409), r.text
            return r

        async def device(i: int, dev: str) -> None:
            if i % 10 == 0:  # some devices turn job A down before starting
                assert (await put(dev, "job-a", {"status": "REJECTED"})).status_code == 200
                accepted["job-a"] += 1
            else:
                claims = await asyncio.gather(
                    *(
                        put(dev, "job-a", {"status": "IN_PROGRESS", "expected_execution_number": 1})
                        for _ in range(2)
                    )
                )
                assert sorted(r.status_code for r in claims) == [200, 409]  # one claim wins
                accepted["job-a"] += 1
                await put(dev, "job-a", {"status": "IN_PROGRESS", "status_details": {"pct": 50}})
                accepted["job-a"] += 1
                outcome = "SUCCEEDED" if rng.random() < 0.8 else "FAILED"
                other = "FAILED" if outcome == "SUCCEEDED" else "SUCCEEDED"
                race = await asyncio.gather(
                    put(dev, "job-a", {"status": outcome}), put(dev, "job-a", {"status": other})
                )
                assert sorted(r.status_code for r in race) == [200, 409]  # exactly one terminal state wins
                accepted["job-a"] += 1
                winner = next(r.json()["status"] for r in race if r.status_code == 200)
                again = await put(dev, "job-a", {"status": winner})  # a retry after a lost response
                assert again.status_code == 200
            assert (await put(dev, "job-a", {"status": "IN_PROGRESS"})).status_code == 409  # out of terminal
            # job B: claim, then finish
            if (await put(dev, "job-b", {"status": "IN_PROGRESS"})).status_code == 200:
                accepted["job-b"] += 1
                if (await put(dev, "job-b", {"status": "SUCCEEDED"})).status_code == 200:
                    accepted["job-b"] += 1

        async def operator() -> None:
            await asyncio.sleep(0.3)
            async with tenant.api() as api:
                r = await api.request("DELETE", "/customer/jobs/job-b", json={"reason": "stop"})
                assert r.status_code == 200
                accepted["job-b"] += r.json()["rejected_executions"]

        await asyncio.gather(operator(), *(device(i, d) for i, d in enumerate(devs)))
    assert statuses[500] == 0

    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            for job_id in ("job-a", "job-b"):
                real = dict(
                    await conn.fetch(
                        "SELECT lower(status), count(*)::int FROM job_executions WHERE job_id = $1 GROUP BY 1",
                        job_id,
                    )
                )
                counters = await conn.fetchrow(
                    "SELECT sum(queued)::int q, sum(in_progress)::int ip, sum(succeeded)::int s, sum(failed)::int f,"
                    " sum(timed_out)::int t, sum(rejected)::int r FROM job_counters WHERE job_id = $1",
                    job_id,
                )
                assert counters is not None
                assert dict(
                    zip(
                        ("queued", "in_progress", "succeeded", "failed", "timed_out", "rejected"),
                        counters.values(),
                        strict=True,
                    )
                ) == {
                    k: real.get(k, 0)
                    for k in ("queued", "in_progress", "succeeded", "failed", "timed_out", "rejected")
                }, job_id
                events = await conn.fetchval(
                    "SELECT count(*) FROM job_execution_events WHERE job_id = $1", job_id
                )
                assert events == accepted[job_id], job_id
                # nothing moved out of a terminal status, and every accepted move bumped the number once
                assert (
                    await conn.fetchval(
                        "SELECT count(*) FROM job_execution_events WHERE job_id = $1 AND from_status = ANY($2)",
                        job_id,
                        list(TERMINAL),
                    )
                    == 0
                )
                assert (
                    await conn.fetchval(
                        "SELECT count(*) FROM job_executions e WHERE job_id = $1 AND execution_number <> 1 + "
                        "(SELECT count(*) FROM job_execution_events v WHERE v.job_id = e.job_id "
                        " AND v.device_id = e.device_id)",
                        job_id,
                    )
                    == 0
                )
            job_a = await conn.fetchrow("SELECT status, completed_at FROM jobs WHERE job_id = 'job-a'")
            assert job_a is not None and job_a["status"] == "COMPLETED" and job_a["completed_at"] is not None
            assert await conn.fetchval("SELECT status FROM jobs WHERE job_id = 'job-b'") == "CANCELED"
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM job_executions WHERE job_id = 'job-b' AND status = 'QUEUED'"
                )
                == 0
            )
    finally:
        await conn.close()


async def test_last_devices_finishing_together_complete_the_job_once(
    services: Services, tenant: Tenant
) -> None:
    devs = await _register(services, tenant, 64)
    await tenant.create_group("last", devs)
    for round_ in range(3):
        job_id = f"last-{round_}"
        async with tenant.api() as api:
            assert (
                await api.post(
                    "/customer/jobs", json={"document_type": "x", "target_group_id": "last", "job_id": job_id}
                )
            ).status_code == 201
        async with httpx.AsyncClient(base_url=services.device.url, timeout=60) as client:

            async def go(dev: str, status: str, job_id: str = job_id) -> int:
                r = await client.put(
                    f"/device/v1/jobs/{job_id}/execution",
                    json={"status": status},
                    headers={"X-Provision-Token": tenant.tokens[dev]},
                )
                return r.status_code

            assert set(await asyncio.gather(*(go(d, "IN_PROGRESS") for d in devs))) == {200}
            assert set(await asyncio.gather(*(go(d, "SUCCEEDED") for d in devs))) == {200}
        async with tenant.api() as api:
            job = (await api.get(f"/customer/jobs/{job_id}")).json()
        assert job["status"] == "COMPLETED" and job["counts"]["succeeded"] == 64 and job["completed_at"]

"""Hundreds of devices at once through the live device API: counters never drift, no illegal move slips
through, a cancel racing the claims leaves each execution either claimed or rejected, and the history holds
exactly the accepted transitions."""

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
    b_claims: dict[str, list[int]] = {"before": [], "racing": [], "after": []}  # job B claim answers
    n_before, n_racing = len(devs[0::3]), len(devs[1::3])
    claimed_before: list[str] = []
    parked: list[str] = []
    rejected: list[int] = []
    all_claimed_before, all_parked, go, canceled = (asyncio.Event() for _ in range(4))
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
            # job B, canceled by the operator while devices claim it: a third claim before the cancel, a
            # third at the same instant as the cancel (released together by one gate), a third after it
            kind = ("before", "racing", "after")[i % 3]
            if kind == "racing":
                parked.append(dev)
                if len(parked) == n_racing:
                    all_parked.set()
                await go.wait()
            elif kind == "after":
                await canceled.wait()
            claim = await put(dev, "job-b", {"status": "IN_PROGRESS"})
            b_claims[kind].append(claim.status_code)
            if kind == "before":
                claimed_before.append(dev)
                if len(claimed_before) == n_before:
                    all_claimed_before.set()
            if claim.status_code == 200:
                accepted["job-b"] += 1
                # an IN_PROGRESS execution of a canceled job may still finish
                assert (await put(dev, "job-b", {"status": "SUCCEEDED"})).status_code == 200
                accepted["job-b"] += 1
            else:  # refused by the canceled job: already rejected, or about to be by the cancel's sweep
                body = claim.json()
                assert body["reason"] in ("job_canceled", "not_allowed"), claim.text
                assert body["current"]["status"] in ("QUEUED", "REJECTED"), claim.text

        async def operator() -> None:
            await all_claimed_before.wait()
            await all_parked.wait()
            async with tenant.api() as api:
                go.set()  # the racing claims and the cancel leave together
                r = await api.request("DELETE", "/customer/jobs/job-b", json={"reason": "stop"})
                assert r.status_code == 200
                rejected.append(r.json()["rejected_executions"])
                accepted["job-b"] += rejected[0]
            canceled.set()

        await asyncio.gather(operator(), *(device(i, d) for i, d in enumerate(devs)))
    assert statuses[500] == 0
    # each claim's answer is the legal one for when it came; the cancel rejected exactly the others
    assert set(b_claims["before"]) == {200} and set(b_claims["after"]) == {409}
    assert set(b_claims["racing"]) <= {200, 409} and len(b_claims["racing"]) == n_racing
    racing_won = b_claims["racing"].count(200)
    assert rejected == [len(b_claims["after"]) + n_racing - racing_won]

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
            histories = await conn.fetch(
                "SELECT device_id, array_agg(actor || ':' || from_status || '>' || to_status ORDER BY event_id) h"
                " FROM job_execution_events WHERE job_id = 'job-b' GROUP BY 1"
            )
            outcomes = Counter(tuple(r["h"]) for r in histories)
            assert outcomes == {
                ("operator:QUEUED>REJECTED",): rejected[0],
                ("device:QUEUED>IN_PROGRESS", "device:IN_PROGRESS>SUCCEEDED"): N - rejected[0],
            }, outcomes
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
    print(f"\ncancel race: {racing_won} of {n_racing} racing claims won, {rejected[0]} executions rejected")

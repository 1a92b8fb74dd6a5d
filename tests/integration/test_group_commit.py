"""Group commit on the device path: 600 devices update their executions at once over HTTP, with duplicate,
illegal, stale-version and unknown-token updates mixed in. The updates leave in batches (fewer statements
than updates), each device gets the answer its own request deserved, exactly one answer says the job was
completed, and every invariant holds."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from shared.infra.db import connect
from tests.conftest import Services, Tenant
from tests.integration.reliability.invariants import check_all
from tests.support.fleet import bulk_devices

N = 600


async def test_batched_updates_answer_each_device_for_its_own_request(
    services: Services, tenant: Tenant
) -> None:
    devs = await bulk_devices(services, tenant, N)
    async with tenant.api() as api:
        r = await api.post(
            "/customer/jobs", json={"document_type": "fw", "target_group_id": "gc", "job_id": "gc"}
        )
        assert r.status_code == 201 and r.json()["execution_count"] == N
    kinds = ["normal", "duplicate", "illegal", "stale", "normal", "normal"]
    kind = {d: kinds[i % len(kinds)] for i, d in enumerate(devs)}
    mover = services.device.app.state
    before = (getattr(mover, "group_commit", None) and mover.group_commit.batches) or 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=services.device.url, timeout=60, limits=limits) as client:

        async def put(dev: str, body: dict[str, Any], token: str | None = None) -> httpx.Response:
            headers = {"X-Provision-Token": token or tenant.tokens[dev]}
            return await client.put("/device/v1/jobs/gc/execution", json=body, headers=headers)

        claim = {"status": "IN_PROGRESS", "expected_execution_number": 1}
        calls: list[tuple[str, str, Any]] = []
        for d in devs:
            if kind[d] == "normal":
                calls.append((d, "claim", put(d, claim)))
            elif kind[d] == "duplicate":  # the same claim twice at once: one wins, one is stale
                calls += [(d, "claim", put(d, claim)), (d, "claim", put(d, claim))]
            elif kind[d] == "illegal":  # QUEUED -> SUCCEEDED skips IN_PROGRESS
                calls.append((d, "illegal", put(d, {"status": "SUCCEEDED"})))
            else:  # a stale expected_execution_number
                calls.append((d, "stale", put(d, {"status": "IN_PROGRESS", "expected_execution_number": 7})))
        calls += [(d, "forged", put(d, claim, token=f"forged-{d}")) for d in devs[:20]]
        answers = await asyncio.gather(*(c for _, _, c in calls))

        per_device: dict[str, list[tuple[int, str | None]]] = {}
        for (d, what, _), r in zip(calls, answers, strict=True):
            if what == "forged":
                assert r.status_code == 401, r.text
                continue
            body = r.json()
            per_device.setdefault(d, []).append((r.status_code, body.get("reason") or body.get("status")))
        for d in devs:
            got = sorted(per_device[d], key=repr)
            expected = {
                "normal": [(200, "IN_PROGRESS")],
                "duplicate": sorted([(200, "IN_PROGRESS"), (409, "version_mismatch")], key=repr),
                "illegal": [(409, "not_allowed")],
                "stale": [(409, "version_mismatch")],
            }[kind[d]]
            assert got == expected, (d, kind[d], got)

        # everyone finishes: the claimed succeed, the illegal ones decline, the stale ones claim and fail
        finish: list[Any] = []
        for d in devs:
            if kind[d] in ("normal", "duplicate"):
                finish.append(put(d, {"status": "SUCCEEDED", "status_details": {"by": d}}))
            elif kind[d] == "illegal":
                finish.append(put(d, {"status": "REJECTED"}))
        done = await asyncio.gather(*finish)
        stale = await asyncio.gather(*(put(d, {"status": "IN_PROGRESS"}) for d in devs if kind[d] == "stale"))
        failed = await asyncio.gather(*(put(d, {"status": "FAILED"}) for d in devs if kind[d] == "stale"))
    assert {r.status_code for r in [*done, *stale, *failed]} == {200}
    completions = [r for r in [*done, *failed] if r.json()["job_completed"]]
    assert len(completions) == 1

    statements = mover.group_commit.batches - before
    updates = len(calls) + len(done) + len(stale) + len(failed)
    assert statements < updates / 2, f"{statements} statements for {updates} updates: no batching"
    print(f"\ngroup commit: {updates} updates in {statements} statements")

    async with tenant.api() as api:
        job = (await api.get("/customer/jobs/gc")).json()
    expected_counts = Counter(
        {"normal": "succeeded", "duplicate": "succeeded", "illegal": "rejected", "stale": "failed"}[kind[d]]
        for d in devs
    )
    assert job["status"] == "COMPLETED"
    assert {k: v for k, v in job["counts"].items() if v} == dict(expected_counts)
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()

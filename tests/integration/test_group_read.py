"""Group read on the device path: 500 devices of two tenants poll at once over HTTP, with revoked and
forged tokens mixed in. The polls leave in batches (fewer statements than polls), each device gets exactly
its own pending work in its own order (the same device ids in the other tenant see only theirs), the
unknown and revoked get 401, and every poll refreshed its device's last_seen_at."""

from __future__ import annotations

import asyncio

import httpx

from shared.infra.db import connect
from tests.conftest import Services, Tenant
from tests.support.fleet import bulk_devices

N_A, N_B = 400, 100
PENDING_FIELDS = {
    "job_id", "status", "execution_number", "document", "status_details", "queued_at", "started_at",
    "last_updated_at", "expires_at",
}  # fmt: skip


async def _job(tenant: Tenant, body: dict[str, object]) -> None:
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", **body})
        assert r.status_code == 201, r.text


async def test_batched_polls_answer_each_device_with_its_own_work(
    services: Services, tenant: Tenant, other_tenant: Tenant
) -> None:
    devs = await bulk_devices(services, tenant, N_A, group="gr")
    others = await bulk_devices(services, other_tenant, N_B, group="gr")  # the same device ids
    await _job(tenant, {"job_id": "all", "target_group_id": "gr"})
    await _job(tenant, {"job_id": "some", "target_devices": {"device_ids": devs[:200]}})
    await _job(other_tenant, {"job_id": "theirs", "target_group_id": "gr"})
    claimed, revoked = devs[:50], devs[390:]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=services.device.url, timeout=60, limits=limits) as client:

        async def get(token: str) -> httpx.Response:
            return await client.get("/device/v1/jobs/pending", headers={"X-Provision-Token": token})

        claims = await asyncio.gather(
            *(
                client.put(
                    "/device/v1/jobs/all/execution",
                    json={"status": "IN_PROGRESS"},
                    headers={"X-Provision-Token": tenant.tokens[d]},
                )
                for d in claimed
            )
        )
        assert {r.status_code for r in claims} == {200}
        owner = await connect(services.db.owner_url)
        try:
            await owner.execute(
                "UPDATE device_state SET status = 'REVOKED', last_seen_at = NULL "
                "WHERE tenant_id = $1 AND device_id = ANY($2)",
                tenant.tenant_id,
                revoked,
            )
            await owner.execute("UPDATE device_state SET last_seen_at = NULL")
        finally:
            await owner.close()

        state = services.device.app.state
        before = (getattr(state, "poll_group", None) and state.poll_group.batches) or 0
        polls: list[tuple[Tenant | None, str, str]] = [(tenant, d, tenant.tokens[d]) for d in devs] + [
            (other_tenant, d, other_tenant.tokens[d]) for d in others
        ]
        polls += [(None, f"forged-{i}", f"forged-{i}") for i in range(20)]
        answers = await asyncio.gather(*(get(token) for _, _, token in polls))
        statements = state.poll_group.batches - before

    etags: dict[tuple[str, str], str] = {}
    for (who, d, _), r in zip(polls, answers, strict=True):
        if who is None or (who is tenant and d in revoked):
            assert r.status_code == 401, (d, r.text)
            continue
        assert r.status_code == 200, (d, r.text)
        jobs = [(j["job_id"], j["status"]) for j in r.json()["jobs"]]
        if who is other_tenant:
            expected = [("theirs", "QUEUED")]
        else:
            first = ("all", "IN_PROGRESS" if d in claimed else "QUEUED")
            expected = [first, ("some", "QUEUED")] if d in devs[:200] else [first]
        assert jobs == expected, (who.tenant_id, d, jobs)
        assert all(set(j) == PENDING_FIELDS for j in r.json()["jobs"]), r.json()
        etags[(who.tenant_id, d)] = r.headers["etag"]
    # polls are short statements, so fewer wait for each than updates do; still, many leave together
    # alone, a device's list has the ETag it had in the crowd (its place in a batch is not part of it)
    async with httpx.AsyncClient(base_url=services.device.url, timeout=60) as client:
        for d in (devs[0], devs[100], devs[300]):
            r = await client.get("/device/v1/jobs/pending", headers={"X-Provision-Token": tenant.tokens[d]})
            assert r.headers["etag"] == etags[(tenant.tenant_id, d)], d
    assert statements < len(polls) * 0.8, f"{statements} statements for {len(polls)} polls: no batching"
    print(f"\ngroup read: {len(polls)} polls in {statements} statements")

    owner = await connect(services.db.owner_url)
    try:
        unseen = await owner.fetch(
            "SELECT tenant_id, device_id, status FROM device_state "
            "WHERE tenant_id = ANY($1) AND last_seen_at IS NULL",
            [tenant.tenant_id, other_tenant.tenant_id],
        )
    finally:
        await owner.close()
    assert {(r["tenant_id"], r["device_id"]) for r in unseen} == {(tenant.tenant_id, d) for d in revoked}

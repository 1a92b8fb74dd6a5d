"""The gateway's SQL (db/functions/095_mqtt.sql) as the runtime role: iotcloud.mqtt_pending lists, device by
device, exactly what the HTTP poll (iotcloud.device_polls) lists (the same filter: a rollout not yet reached, an expired or
canceled job, started work kept); mqtt_auth needs the thing's own token; mqtt_live drops revoked and
rotated tokens; thing_name is tenant:device, unique, on devices created before and after migration 091."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.auth import token_hash
from tests.conftest import Services, Tenant
from tests.integration.mqtt_support import create_job, exact_after, things

__all__ = ["exact_after"]
pytestmark = pytest.mark.usefixtures("exact_after")


async def test_pending_lists_what_device_polls_lists(app_pool: asyncpg.Pool, tenant: Tenant) -> None:
    ids = await things(tenant, 3, "sq")
    devs = list(ids)
    await tenant.create_group("sq", devs)
    await create_job(tenant, target_group_id="sq", document_params={"a": 1})
    started = await create_job(tenant, target_group_id="sq")
    canceled = await create_job(tenant, target_group_id="sq")
    await create_job(tenant, target_group_id="sq", expires_in_hours=1)
    # a rollout that reaches one device a minute: not every device yet
    await create_job(tenant, target_group_id="sq",
                     rollout_config={"maximum_per_minute": 1})  # fmt: skip
    async with tenant.device_api(devs[0]) as d:
        assert (
            await d.put(f"/device/v1/jobs/{started}/execution", json={"status": "IN_PROGRESS"})
        ).status_code == 200
    async with tenant.api() as api:
        assert (await api.post(f"/customer/jobs/{canceled}/cancel", json={})).status_code == 200
    hashes = [token_hash(tenant.tokens[d]) for d in devs]
    for when in (datetime.now(UTC), datetime.now(UTC) + timedelta(hours=2)):  # before and after the expiry
        rows = await app_pool.fetch("SELECT * FROM iotcloud.mqtt_pending($1::text[], $2, 100)", hashes, when)
        polls = await app_pool.fetch(
            "SELECT * FROM iotcloud.device_polls($1::text[], $2::timestamptz[], 60, 100) WHERE job_id IS NOT NULL",
            hashes,
            [when] * len(hashes),
        )
        for i in range(1, len(hashes) + 1):
            polled = [r for r in polls if r["ord"] == i]
            mine = [r for r in rows if r["ord"] == i]
            assert [(r["job_id"], r["status"], r["execution_number"]) for r in mine] == [
                (r["job_id"], r["status"], r["execution_number"]) for r in polled
            ]
            assert [r["pos"] for r in mine] == list(range(1, len(mine) + 1))
            assert all((r["document_params"] is None) == (r["pos"] > 1) for r in mine)
    first = await app_pool.fetch("SELECT * FROM iotcloud.mqtt_pending($1::text[], now(), 100)", hashes[:1])
    assert first[0]["job_id"] == started and first[0]["status"] == "IN_PROGRESS"


async def test_auth_and_live(
    services: Services, app_pool: asyncpg.Pool, tenant: Tenant, other_tenant: Tenant
) -> None:
    ids = await things(tenant, 3, "al")
    other = await things(other_tenant, 1, "al")
    (a, ta), (b, tb), (c, _tc) = ids.items()
    (o, to), = other.items()  # fmt: skip
    assert ta == f"{tenant.tenant_id}:{a}" and to == f"{other_tenant.tenant_id}:{o}"
    auth = "SELECT * FROM iotcloud.mqtt_auth($1, $2, 60, now())"
    row = await app_pool.fetchrow(auth, ta, token_hash(tenant.tokens[a]))
    assert dict(row) == {"tenant_id": tenant.tenant_id, "device_id": a}
    assert await app_pool.fetchrow(auth, ta, token_hash(tenant.tokens[b])) is None
    assert await app_pool.fetchrow(auth, to, token_hash(tenant.tokens[a])) is None
    async with tenant.api() as api:
        assert (await api.post(f"/customer/devices/{b}/revoke")).status_code == 200
        assert (await api.post(f"/customer/devices/{c}/rotate-token")).status_code == 200
    assert await app_pool.fetchrow(auth, tb, token_hash(tenant.tokens[b])) is None
    hashes = [
        token_hash(t) for t in (tenant.tokens[a], tenant.tokens[b], tenant.tokens[c], other_tenant.tokens[o])
    ]
    live = await app_pool.fetch("SELECT ord FROM iotcloud.mqtt_live($1::text[])", hashes)
    assert sorted(r["ord"] for r in live) == [1, 4]
    # the runtime role cannot set a thing_name: it is generated
    with pytest.raises(asyncpg.PostgresError):
        async with app_pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant.tenant_id)
            await conn.execute("UPDATE device_state SET thing_name = 'x' WHERE device_id = $1", a)

"""Many devices at once, for the tests that drive a fleet over HTTP."""

from __future__ import annotations

from shared.auth import token_hash
from shared.infra.db import connect
from tests.conftest import Services, Tenant


async def bulk_devices(services: Services, tenant: Tenant, n: int, group: str = "gc") -> list[str]:
    """n devices with known tokens (`tenant.tokens`), all in group `group`, written as the owner (fast)."""
    ids = [f"{group}-{i:04d}" for i in range(n)]
    for d in ids:
        tenant.tokens[d] = f"tok-{tenant.tenant_id}-{d}"
    owner = await connect(services.db.owner_url)
    try:
        async with owner.transaction():
            await owner.execute(
                "INSERT INTO device_state (tenant_id, device_id, name, token_hash) "
                "SELECT $1, d, d, h FROM unnest($2::text[], $3::text[]) AS x(d, h)",
                tenant.tenant_id,
                ids,
                [token_hash(tenant.tokens[d]) for d in ids],
            )
            await owner.execute(
                "INSERT INTO device_groups (tenant_id, group_id, name) VALUES ($1, $2, $2)",
                tenant.tenant_id,
                group,
            )
            await owner.execute(
                "INSERT INTO device_group_members (tenant_id, group_id, device_id) "
                "SELECT $1, $2, d FROM unnest($3::text[]) AS d",
                tenant.tenant_id,
                group,
                ids,
            )
    finally:
        await owner.close()
    return ids

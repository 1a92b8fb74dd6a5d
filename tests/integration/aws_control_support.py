"""The control plane tests' pieces: a boto3 `iot` client signed with an operator's access key made with
iotcloud's API, called off the event loop that serves it; a viewer of a tenant; ARNs of a tenant."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.auth import Principal, issue_token
from shared.infra.db import SET_TENANT, connect
from shared.tenants import upsert_user
from tests.conftest import TEST_SECRET, Tenant
from tests.integration.aws_support import client, create_key
from tests.support.servers import LiveServer


@dataclass
class Iot:
    """A boto3 `iot` client, called from a thread (the server runs in this event loop)."""

    client: Any

    async def __call__(self, operation: str, **kw: Any) -> Any:
        method: Callable[..., Any] = getattr(self.client, operation)
        return await asyncio.to_thread(functools.partial(method, **kw))

    @property
    def errors(self) -> Any:
        return self.client.exceptions


async def iot_for(server: LiveServer, tenant: Tenant) -> Iot:
    """An operator's access key, made with iotcloud's API (it has the operator's role), in a boto3 client."""
    key = await create_key(tenant)
    return Iot(client(server, "iot", key["access_key_id"], key["secret_access_key"]))


async def viewer_of(tenant: Tenant) -> Tenant:
    """A viewer of the same tenant, logged in."""
    conn = await connect(tenant.services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            user = await upsert_user(
                conn, tenant.tenant_id, f"viewer@{tenant.tenant_id}.test", "password-123", "viewer"
            )
    finally:
        await conn.close()
    principal = Principal(
        tenant_id=tenant.tenant_id, user_id=user["user_id"], email=user["email"], role="viewer"
    )
    return Tenant(
        tenant_id=tenant.tenant_id, token=issue_token(principal, TEST_SECRET, 3600), services=tenant.services
    )


def thing_arn(tenant: Tenant, name: str) -> str:
    return f"arn:aws:iot:us-east-1:{tenant.tenant_id}:thing/{name}"


def group_arn(tenant: Tenant, name: str) -> str:
    return f"arn:aws:iot:us-east-1:{tenant.tenant_id}:thinggroup/{name}"

"""Shared pieces of the MQTT gateway tests: an in-process gateway on a free port next to the live API
servers (tests/conftest.py), devices created over the operator API with their thing names, and jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from mqtt_gateway.gateway import Gateway
from shared.infra.db import connect, create_pool
from tests.conftest import Services, Tenant
from tests.integration.reliability.invariants import check_all
from tests.support.aws_device import AwsDevice


@pytest.fixture
async def gateway(services: Services) -> AsyncIterator[Gateway]:
    pool = await create_pool(services.db.app_url, min_size=1, max_size=6, session_state=False)
    gw = Gateway(services.settings, pool, services.db.app_url)
    await gw.start("127.0.0.1", 0)
    yield gw
    await gw.stop()
    await pool.close()


@pytest.fixture
async def exact_after(services: Services) -> AsyncIterator[None]:
    """Counters, history chains, moves and completion are exact after each test."""
    yield
    owner = await connect(services.db.owner_url)
    try:
        await check_all(owner)
    finally:
        await owner.close()


async def things(tenant: Tenant, n: int, prefix: str) -> dict[str, str]:
    """device_id -> thing_name, created over the API (which returns the MQTT endpoint)."""
    out = {}
    async with tenant.api() as api:
        for i in range(n):
            r = await api.post("/customer/devices", json={"device_id": f"{prefix}-{i}"})
            assert r.status_code == 201, r.text
            body = r.json()
            tenant.tokens[body["device_id"]] = body["provision_token"]
            out[body["device_id"]] = body["mqtt"]["thing_name"]
    return out


async def create_job(tenant: Tenant, **body: Any) -> str:
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", **body})
        assert r.status_code == 201, r.text
        return str(r.json()["job_id"])


def device(gw: Gateway, tenant: Tenant, device_id: str, thing: str, **kw: Any) -> AwsDevice:
    return AwsDevice("127.0.0.1", gw.port, thing, tenant.tokens[device_id], **kw)

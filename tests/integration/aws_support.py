"""Shared pieces of the AWS-compatible API tests: the app live on a free port next to the other servers
(tests/conftest.py), unmodified boto3 clients pointed at it (run in a thread: the server shares the test's
event loop), devices' SigV4 credentials (thing name, SHA-256 of the provision token) and operators' keys."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import boto3
import pytest
from botocore.config import Config

from aws_api.app import create_app as create_aws_app
from tests.conftest import Services, Tenant
from tests.support.servers import LiveServer

T = TypeVar("T")
REGION = "us-east-1"


@pytest.fixture(scope="session")
async def aws_server(services: Services) -> AsyncIterator[LiveServer]:
    server = await LiveServer(create_aws_app(services.settings, services.db.app_url)).start()
    yield server
    await server.stop()


@pytest.fixture
async def aws(aws_server: LiveServer) -> AsyncIterator[LiveServer]:
    """The live AWS API, its clock put back to the real one after the test."""
    yield aws_server
    aws_server.app.state.clock = lambda: datetime.now(UTC)


def client(server: LiveServer, service: str, key_id: str, secret: str, **kw: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=kw.pop("endpoint_url", server.url),
        region_name=kw.pop("region_name", REGION),
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
        **kw,
    )


def device_client(server: LiveServer, tenant: Tenant, device_id: str, **kw: Any) -> Any:
    """`iot-jobs-data` signed as the device: its thing name and its token's SHA-256 (docs/aws-compat.md)."""
    token = tenant.tokens[device_id]
    thing = f"{tenant.tenant_id}:{device_id}"
    return client(server, "iot-jobs-data", thing, hashlib.sha256(token.encode()).hexdigest(), **kw)


async def call(fn: Callable[..., T], **kw: Any) -> T:
    """A blocking boto3 call, off the event loop that serves it."""
    return await asyncio.to_thread(fn, **kw)


async def create_key(tenant: Tenant) -> dict[str, Any]:
    async with tenant.api() as api:
        r = await api.post("/customer/access-keys")
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body


async def create_job(tenant: Tenant, **body: Any) -> str:
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "fw", **body})
        assert r.status_code == 201, r.text
        return str(r.json()["job_id"])

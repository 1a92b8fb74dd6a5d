"""Device API dependencies: X-Provision-Token auth (with its failure limiter) and the device's tenant
transaction. The hot calls (poll, execution update) pass the token hash to one SQL function that
authenticates and does the work in a single round trip; the other routes use `CurrentDevice`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError

from shared.auth import token_hash
from shared.errors import TooManyRequests, Unauthorized
from shared.infra import db
from shared.jobs.device import UnknownDevice
from shared.jobs.group_commit import GroupCommit
from shared.observability.context import set_tenant
from shared.web.service_app import now_of

TOKEN_MAX_LENGTH = 512


@dataclass(slots=True)
class DeviceCredentials:
    pool: asyncpg.Pool
    token_hash: str
    seen_interval: int  # last_seen_at is written at most this often (seconds)
    now: datetime  # the request's time (the app's clock)


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def read_credentials(request: Request, token: str | None) -> DeviceCredentials:
    """The request's credentials, checked as far as they can be without the database."""
    limiter = request.app.state.auth_limiter
    key = client_key(request)
    if limiter.blocked(key):
        raise TooManyRequests("too many failed authentications, retry later")
    if not token:
        limiter.fail(key)
        raise Unauthorized("missing X-Provision-Token header")
    if len(token) > TOKEN_MAX_LENGTH:
        msg = f"String should have at most {TOKEN_MAX_LENGTH} characters"
        raise RequestValidationError(
            [{"type": "string_too_long", "loc": ("header", "x-provision-token"), "msg": msg, "input": None}]
        )
    interval = request.app.state.settings.last_seen_interval_seconds
    return DeviceCredentials(request.app.state.pool, token_hash(token), interval, now_of(request))


@contextmanager
def counting_auth_failures(request: Request) -> Iterator[None]:
    """Turns the database's verdict on an unknown or revoked token into 401 and counts it for the limiter."""
    try:
        yield
    except (asyncpg.InvalidAuthorizationSpecificationError, UnknownDevice):
        request.app.state.auth_limiter.fail(client_key(request))
        raise Unauthorized("unknown or revoked provision token") from None


def group_commit(request: Request) -> GroupCommit:
    """The app's group commit of device moves, made on first use over the app's pool."""
    state = request.app.state
    mover: GroupCommit | None = getattr(state, "group_commit", None)
    if mover is None or mover.pool is not state.pool:
        settings = state.settings
        mover = state.group_commit = GroupCommit(
            state.pool,
            settings.last_seen_interval_seconds,
            max_batch=settings.device_batch_max,
            max_in_flight=settings.device_batches_in_flight,
        )
    return mover


@contextmanager
def device_call(request: Request) -> Iterator[DeviceCredentials]:
    """For a LeanRoute endpoint: its credentials, with the database's verdict on them counted."""
    creds = read_credentials(request, request.headers.get("x-provision-token"))
    with counting_auth_failures(request):
        yield creds


async def device_credentials(
    request: Request,
    x_provision_token: Annotated[str | None, Header(max_length=TOKEN_MAX_LENGTH)] = None,
) -> AsyncIterator[DeviceCredentials]:
    creds = read_credentials(request, x_provision_token)
    with counting_auth_failures(request):
        yield creds


# scope="function": the transaction commits before the response is sent, so a 200 means "stored"
# (FastAPI's default runs a yield dependency's exit after the response has gone out).
DeviceAuth = Annotated[DeviceCredentials, Depends(device_credentials, scope="function")]


async def device_tx(creds: DeviceAuth) -> AsyncIterator[db.DeviceSession]:
    async with db.device_tx(creds.pool, creds.token_hash, creds.seen_interval, creds.now) as session:
        set_tenant(session.tenant_id)
        yield session


CurrentDevice = Annotated[db.DeviceSession, Depends(device_tx, scope="function")]

"""Device API dependencies: X-Provision-Token auth (with the bad-token limiter and the rate limits of
shared/ratelimits.py) and the device's tenant transaction. The hot calls (poll, execution update) pass the
token hash to one SQL function that authenticates and does the work in a single round trip; the other routes
use `CurrentDevice`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, NoReturn, TypeVar

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError

from shared import ratelimits
from shared.artifacts.delivery import UrlSigner
from shared.auth import token_hash
from shared.errors import TooManyRequests, Unauthorized
from shared.infra import db
from shared.infra.config import Settings
from shared.infra.db import DB_ERRORS
from shared.jobs.device import UnknownDevice
from shared.jobs.group_commit import GroupCommit
from shared.jobs.poll_group import PollGroup
from shared.observability.context import set_tenant
from shared.web.service_app import now_of

log = logging.getLogger("iotcloud.device_api")

TOKEN_HEADER = "x-provision-token"  # noqa: S105 - a header name
TOKEN_MAX_LENGTH = 512


@dataclass(slots=True)
class DeviceCredentials:
    pool: asyncpg.Pool
    token_hash: str
    seen_interval: int  # last_seen_at is written at most this often (seconds)
    now: datetime  # the request's time (the app's clock)


class MissingToken(Unauthorized):
    """The request has no X-Provision-Token."""


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def read_credentials(request: Request, token: str | None) -> DeviceCredentials:
    """The request's credentials, checked as far as they can be without the database."""
    if not token:
        raise MissingToken("missing X-Provision-Token header")
    if len(token) > TOKEN_MAX_LENGTH:
        msg = f"String should have at most {TOKEN_MAX_LENGTH} characters"
        raise RequestValidationError(
            [{"type": "string_too_long", "loc": ("header", "x-provision-token"), "msg": msg, "input": None}]
        )
    interval = request.app.state.settings.last_seen_interval_seconds
    return DeviceCredentials(request.app.state.pool, token_hash(token), interval, now_of(request))


async def _refuse(request: Request, message: str) -> NoReturn:
    """A token failed: 401, or 429 once the client's address has failed too often in its window (shared by
    every replica). Should the count itself fail (database gone), the answer is still 401."""
    try:
        state = request.app.state
        limits = ratelimits.limits_of(state)
        wait = await ratelimits.count_auth_failure(state.pool, limits, client_key(request), now_of(request))
    except DB_ERRORS as exc:
        log.warning("a failed device authentication was not counted (%s)", type(exc).__name__)
        wait = None
    if wait is not None:
        raise TooManyRequests(
            "too many failed authentications from this address, retry later", retry_after=wait
        )
    raise Unauthorized(message)


@asynccontextmanager
async def device_call(request: Request, token: str | None) -> AsyncIterator[DeviceCredentials]:
    """The request's credentials, counted against the device's rate limits; a missing token, or the
    database's verdict on an unknown or revoked one, turns into 401 (429 for an address that keeps failing).
    A valid token is never refused for its address: the address is counted only once a token has failed."""
    try:
        creds = read_credentials(request, token)
        limits = ratelimits.limits_of(request.app.state)
        await ratelimits.check_device(creds.pool, limits, creds.token_hash, creds.now)
        yield creds
    except MissingToken as exc:
        await _refuse(request, exc.message)
    except (asyncpg.InvalidAuthorizationSpecificationError, UnknownDevice):
        await _refuse(request, "unknown or revoked provision token")


def url_signer(request: Request) -> UrlSigner:
    """Signs the artifact URLs of this request's answer: the installation secret, the configured lifetime, the
    device API's base URL (configured, else the one this request came in on)."""
    settings = request.app.state.settings
    return UrlSigner(
        secret=request.app.state.secret,
        ttl=timedelta(seconds=settings.artifact_url_ttl_seconds),
        base_url=settings.artifact_base_url or str(request.base_url),
    )


B = TypeVar("B", GroupCommit, PollGroup)


def _made_once(request: Request, name: str, make: Callable[[asyncpg.Pool, Settings], B]) -> B:
    """The app's batcher `name` (app.state), made on first use over the app's pool (again if the pool was
    replaced, as tests do)."""
    state = request.app.state
    batcher: B | None = getattr(state, name, None)
    if batcher is None or batcher.pool is not state.pool:
        batcher = make(state.pool, state.settings)
        setattr(state, name, batcher)
    return batcher


def group_commit(request: Request) -> GroupCommit:
    """The app's group commit of device moves."""
    return _made_once(request, "group_commit", GroupCommit.of)


def poll_group(request: Request) -> PollGroup:
    """The app's group read of device polls."""
    return _made_once(request, "poll_group", PollGroup.of)


async def device_credentials(
    request: Request,
    x_provision_token: Annotated[str | None, Header(max_length=TOKEN_MAX_LENGTH)] = None,
) -> AsyncIterator[DeviceCredentials]:
    async with device_call(request, x_provision_token) as creds:
        yield creds


# scope="function": the transaction commits before the response is sent, so a 200 means "stored"
# (FastAPI's default runs a yield dependency's exit after the response has gone out).
DeviceAuth = Annotated[DeviceCredentials, Depends(device_credentials, scope="function")]


async def device_tx(creds: DeviceAuth) -> AsyncIterator[db.DeviceSession]:
    async with db.device_tx(creds.pool, creds.token_hash, creds.seen_interval, creds.now) as session:
        set_tenant(session.tenant_id)
        yield session


CurrentDevice = Annotated[db.DeviceSession, Depends(device_tx, scope="function")]

"""What every control-plane route starts from: the caller (SigV4, an operator's access key), its tenant's
transaction, and the translation of iotcloud's domain errors into the AWS IoT errors botocore knows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from aws_api.errors import AwsError
from aws_api.sigv4 import AwsPrincipal, authenticate
from shared.auth import WRITE_ROLES
from shared.errors import BadRequest, Conflict, DomainError, Forbidden, NotFound, TooManyRequests
from shared.infra.db import tenant_tx
from shared.web.service_app import now_of

M = TypeVar("M", bound=BaseModel)

INVALID = "InvalidRequestException"
NOT_FOUND = "ResourceNotFoundException"
EXISTS = "ResourceAlreadyExistsException"
CONFLICT = "ConflictException"
STATE = "InvalidStateTransitionException"
VERSION = "VersionConflictException"
LIMIT = "LimitExceededException"
THROTTLED = "ThrottlingException"
UNAUTHORIZED = "UnauthorizedException"

# The status AWS IoT answers each error with (botocore's iot model; ThrottlingException is sent as 429).
STATUS = {
    INVALID: 400,
    NOT_FOUND: 404,
    EXISTS: 409,
    CONFLICT: 409,
    STATE: 409,
    VERSION: 409,
    LIMIT: 410,
    THROTTLED: 429,
    UNAUTHORIZED: 401,
}


def aws_error(code: str, message: str) -> AwsError:
    return AwsError(STATUS[code], code, message)


@dataclass(frozen=True, slots=True)
class Caller:
    """An operator signed in with an access key: its tenant (the ARNs' account), pool and clock."""

    principal: AwsPrincipal
    pool: asyncpg.Pool
    region: str
    now: datetime

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    @property
    def actor(self) -> str:
        """The audit log's and created_by's actor: the access key."""
        return "access-key:" + str(self.principal.access_key_id)

    @asynccontextmanager
    async def tx(self, write: bool = False) -> AsyncIterator[asyncpg.Connection]:
        if write and self.principal.role not in WRITE_ROLES:
            raise aws_error(UNAUTHORIZED, f"role {self.principal.role!r} may not change anything")
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            yield conn


def region_of(request: Request) -> str:
    settings = request.app.state.settings
    return str(getattr(settings, "aws_region", None) or "us-east-1")


async def get_caller(request: Request) -> Caller:
    """The signing operator (aws_api.sigv4 verifies the signature and counts the call against the key
    owner's operator rate limit: ThrottlingException over it)."""
    principal = await authenticate(request, "iot")
    if principal.kind != "operator":
        raise aws_error(UNAUTHORIZED, "the control plane is for operators' access keys, not devices")
    return Caller(principal, request.app.state.pool, region_of(request), now_of(request))


CallerDep = Annotated[Caller, Depends(get_caller)]


@contextmanager
def translated(**codes: str) -> Iterator[None]:
    """Domain errors raised inside become AWS errors: NotFound -> ResourceNotFoundException, BadRequest ->
    InvalidRequestException, Forbidden (a quota) -> LimitExceededException, TooManyRequests ->
    ThrottlingException, Conflict -> `codes['conflict']` (per operation; a Conflict's `reason` may pick
    another: codes[reason])."""
    try:
        yield
    except NotFound as exc:
        raise aws_error(NOT_FOUND, exc.message) from exc
    except BadRequest as exc:
        raise aws_error(INVALID, exc.message) from exc
    except Forbidden as exc:
        raise aws_error(LIMIT, exc.message) from exc
    except TooManyRequests as exc:
        raise aws_error(THROTTLED, exc.message) from exc
    except Conflict as exc:
        reason = str(exc.extra.get("reason", ""))
        raise aws_error(codes.get(reason) or codes.get("conflict", CONFLICT), exc.message) from exc
    except DomainError as exc:
        raise aws_error(INVALID, exc.message) from exc


async def parse_body(request: Request, model: type[M]) -> M:
    """The JSON body as `model` (an empty body is an empty object); anything else: InvalidRequestException."""
    raw = await request.body()
    try:
        data: Any = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise aws_error(INVALID, "the body is not JSON") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise aws_error(INVALID, _first(exc)) from exc


def _first(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def validated(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise aws_error(INVALID, _first(exc)) from exc

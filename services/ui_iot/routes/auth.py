"""Operator login: OAuth2 password form in, signed JWT out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from shared.auth import issue_token
from shared.login_guard import LoginLimits, PasswordGate, check_login
from shared.web.responses import BAD_VALUE, BEARER, TOO_LARGE, UNAVAILABLE, error
from shared.web.service_app import Now
from ui_iot.deps import CurrentPrincipal, PoolDep, ReadDB

router = APIRouter(tags=["auth"], responses=UNAVAILABLE)


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    tenant_id: str
    email: str
    role: str


class MeOut(BaseModel):
    tenant_id: str
    user_id: str
    email: str
    role: str


def password_gate(request: Request) -> PasswordGate:
    """The app's bound on password checks at once, made on first use."""
    state = request.app.state
    gate: PasswordGate | None = getattr(state, "password_gate", None)
    if gate is None:
        settings = state.settings
        gate = state.password_gate = PasswordGate(
            settings.password_checks_at_once, settings.password_check_wait_seconds
        )
    return gate


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=BAD_VALUE
    | error(401, "incorrect e-mail or password")
    | TOO_LARGE
    | error(
        429,
        "too many failed logins for this account or from this address: refused without checking the "
        "password; retry after Retry-After seconds",
        retry_after=True,
    )
    | error(
        503,
        "the database is unavailable, or too many logins are being checked at once (then with Retry-After):"
        " nothing was checked, retry later",
        retry_after=True,
    ),
)
async def login(
    request: Request, pool: PoolDep, now: Now, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, Any]:
    state = request.app.state
    principal = await check_login(
        pool,
        password_gate(request),
        LoginLimits.of(state.settings),
        email=form.username,
        password=form.password,
        address=request.client.host if request.client else "unknown",
        now=now,
    )
    ttl = state.settings.token_ttl_minutes * 60
    token = issue_token(principal, state.secret, ttl)
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ttl,
        "tenant_id": principal.tenant_id,
        "email": principal.email,
        "role": principal.role,
    }


@router.get("/auth/me", response_model=MeOut, responses=BEARER)
async def me(principal: CurrentPrincipal, _db: ReadDB) -> dict[str, Any]:
    return {
        "tenant_id": principal.tenant_id,
        "user_id": principal.user_id,
        "email": principal.email,
        "role": principal.role,
    }

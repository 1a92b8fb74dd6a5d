"""Operator login: OAuth2 password form in, signed JWT out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from shared.auth import issue_token
from shared.infra.db import tx
from shared.tenants import authenticate
from shared.web.responses import BAD_VALUE, BEARER, TOO_LARGE, UNAVAILABLE, error
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


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=BAD_VALUE | error(401, "incorrect e-mail or password") | TOO_LARGE,
)
async def login(
    request: Request, pool: PoolDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, Any]:
    async with tx(pool) as conn:
        principal = await authenticate(conn, form.username, form.password)
    ttl = request.app.state.settings.token_ttl_minutes * 60
    token = issue_token(principal, request.app.state.secret, ttl)
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

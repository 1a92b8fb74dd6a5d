"""AWS access keys (docs/aws-compat.md): an operator creates one for the AWS-compatible API (the secret is
shown once), lists the tenant's keys and revokes one. A key has its creator's role; it stops working when
revoked or when its creator is disabled, and acts with no more than its creator's role now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from shared import access_keys, audit
from shared.errors import Forbidden, Unauthorized
from shared.tenants import current_role
from shared.web.responses import BEARER, NOT_FOUND, UNAVAILABLE, error
from shared.web.service_app import Now
from ui_iot.deps import CurrentPrincipal, ReadDB

router = APIRouter(prefix="/customer/access-keys", tags=["access keys"], responses=BEARER | UNAVAILABLE)

KeyId = Annotated[str, Path(pattern=r"^AKIA[A-Z2-7]{16}$")]


class AccessKeyOut(BaseModel):
    access_key_id: str
    role: Literal["admin", "operator", "viewer"] = Field(description="the creator's role when it was created")
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class AccessKeyCreated(AccessKeyOut):
    secret_access_key: str = Field(description="shown this once; stored encrypted, never shown again")


class AccessKeyList(BaseModel):
    access_keys: list[AccessKeyOut]


@router.post("", status_code=201, response_model=AccessKeyCreated)
async def create_access_key(
    request: Request, db: ReadDB, principal: CurrentPrincipal, now: Now
) -> dict[str, Any]:
    """A key for the caller, with the caller's role (a viewer's key only reads)."""
    role = await current_role(db, principal)
    if role is None:  # pragma: no cover - ReadDB has checked it in this transaction
        raise Unauthorized("user is disabled or no longer exists")
    secret = request.app.state.secret
    key = await access_keys.create_key(db, secret, principal.user_id, role, principal.email, now)
    details = {"role": role}
    await audit.record(
        db, principal, "access_key.created", "access_key", key["access_key_id"], details, now=now
    )
    return key


@router.get("", response_model=AccessKeyList)
async def list_access_keys(db: ReadDB) -> dict[str, Any]:
    return {"access_keys": await access_keys.list_keys(db)}


@router.post(
    "/{access_key_id}/revoke",
    response_model=AccessKeyOut,
    responses=NOT_FOUND | error(403, "only the key's creator or an admin may revoke it"),
)
async def revoke_access_key(
    access_key_id: KeyId, db: ReadDB, principal: CurrentPrincipal, now: Now
) -> dict[str, Any]:
    """Revokes the key at once (again: unchanged). Its creator or an admin may."""
    owner = await db.fetchval(access_keys.KEY_OWNER, access_key_id)
    if owner is not None and str(owner) != principal.user_id and await current_role(db, principal) != "admin":
        raise Forbidden("only the key's creator or an admin may revoke it")
    key = await access_keys.revoke_key(db, access_key_id, now)
    if key["revoked_at"] == now:  # revoked by this call, not before
        await audit.record(db, principal, "access_key.revoked", "access_key", access_key_id, now=now)
    return key

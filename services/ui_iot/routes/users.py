"""The tenant's operators, for its admins: create (with a generated password shown once), list, change the
role or disable. The tenant always keeps an enabled admin (409)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints

from shared import users
from shared.web.responses import ADMIN, BEARER, NOT_FOUND, TOO_LARGE, UNAVAILABLE, error
from shared.web.service_app import Now
from shared.web.validation import STRICT_BODY
from ui_iot.deps import AdminDB, CurrentPrincipal
from ui_iot.routes.auth import password_gate

router = APIRouter(prefix="/customer/users", tags=["users"], responses=BEARER | UNAVAILABLE | ADMIN)

Email = Annotated[str, StringConstraints(min_length=3, max_length=320, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
Role = Literal["admin", "operator", "viewer"]


class UserCreate(BaseModel):
    model_config = STRICT_BODY
    email: Email
    role: Role = "operator"


class UserPatch(BaseModel):
    model_config = STRICT_BODY
    role: Role | None = None
    disabled: bool | None = None


class UserOut(BaseModel):
    user_id: str
    email: str
    role: Role
    disabled: bool = Field(description="a disabled user can neither log in nor use a token issued before")
    created_at: datetime


class UserCreated(UserOut):
    password: str = Field(description="the new user's password: shown this once, only its hash is stored")


class UserList(BaseModel):
    users: list[UserOut]


@router.post(
    "",
    status_code=201,
    response_model=UserCreated,
    responses=error(409, "the e-mail is already taken (by this or another tenant)") | TOO_LARGE,
)
async def create_user(request: Request, body: UserCreate, db: AdminDB, now: Now) -> dict[str, Any]:
    return await users.create_user(db, body.email, body.role, now, password_gate(request).hash)


@router.get("", response_model=UserList)
async def list_users(db: AdminDB) -> dict[str, Any]:
    return {"users": await users.list_users(db)}


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    responses=NOT_FOUND
    | error(409, "the change would leave the tenant without an enabled admin")
    | TOO_LARGE,
)
async def update_user(
    user_id: uuid.UUID, body: UserPatch, db: AdminDB, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Changes the role, disables or enables the user; a disabled user's tokens stop working at once."""
    return await users.update_user(db, principal.user_id, str(user_id), body.role, body.disabled)

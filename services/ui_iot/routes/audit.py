"""The operator audit log (shared/audit.py): who did what to which target, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared import audit
from shared.web.responses import BAD_VALUE, BEARER, UNAVAILABLE
from shared.web.validation import Limit
from ui_iot.deps import ReadDB

router = APIRouter(prefix="/customer/audit", tags=["audit"], responses=BEARER | UNAVAILABLE)

NUL_FREE = r"^[^\x00]*$"


class AuditEntry(BaseModel):
    audit_id: int
    at: datetime
    actor: str = Field(description="the operator's e-mail (or user id), or 'cli'")
    actor_user_id: str | None
    action: str = Field(description="e.g. job.created, job.canceled, execution.deleted, device.revoked")
    target_type: str = Field(description="job, execution (target_id job_id/device_id), template, device")
    target_id: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    limit: int
    next_after: int | None = Field(description="audit_id to pass as `after` for the next page; null: the end")


def _text(description: str, max_length: int = 320) -> Any:
    return Query(max_length=max_length, pattern=NUL_FREE, description=description)


@router.get("", response_model=AuditPage, responses=BAD_VALUE)
async def list_audit(
    db: ReadDB,
    limit: Limit = 50,
    after: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="keyset: audit_id to continue below")
    ] = None,
    action: Annotated[str | None, _text("only this action")] = None,
    target_type: Annotated[str | None, _text("only this target type", 64)] = None,
    target_id: Annotated[str | None, _text("only this target")] = None,
    actor: Annotated[str | None, _text("only this actor (e-mail, user id or 'cli')")] = None,
    since: Annotated[datetime | None, Query(description="at or after")] = None,
    until: Annotated[datetime | None, Query(description="before")] = None,
) -> dict[str, Any]:
    return await audit.list_entries(
        db,
        limit=limit,
        after=after,
        action=action,
        target_type=target_type,
        target_id=target_id,
        actor=actor,
        since=since,
        until=until,
    )

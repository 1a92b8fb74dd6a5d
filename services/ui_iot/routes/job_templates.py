"""Job templates (AWS IoT job templates), for operators: create, list, read, delete. A job is made from one
with `POST /customer/jobs {"template_id", "document_parameters"}` (routes/jobs.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared import audit
from shared.jobs import templates
from shared.jobs.configs import TemplateConfigs
from shared.web.responses import BAD_VALUE, BEARER, CONFLICT, NOT_FOUND, TOO_LARGE, UNAVAILABLE, WRITER
from shared.web.service_app import Now
from shared.web.validation import STRICT_BODY, DocumentType, JobId, Limit, Text, integer, json_object
from ui_iot.deps import CurrentPrincipal, ReadDB, WriteDB

router = APIRouter(prefix="/customer/job-templates", tags=["job templates"], responses=BEARER | UNAVAILABLE)


class TemplateCreate(BaseModel):
    model_config = STRICT_BODY
    template_id: JobId
    description: Text = ""
    document_type: DocumentType
    document: json_object(32 * 1024) = Field(  # type: ignore[valid-type]
        default={},
        description="the jobs' document (params); its string values may hold placeholders "
        "${aws:iot:parameter:NAME}",
    )
    expires_in_hours: Annotated[float | None, Field(gt=0, le=24 * 366)] = None
    in_progress_timeout_minutes: integer(ge=1, le=7 * 24 * 60) | None = None  # type: ignore[valid-type]
    configs: TemplateConfigs = Field(
        default_factory=TemplateConfigs,
        description="default rollout_config, abort_config, retry_config and scheduling_config of the jobs "
        "made from it (each validated as on POST /customer/jobs; a job's own config wins)",
    )


class TemplateOut(BaseModel):
    template_id: str
    description: str
    document_type: str
    document: dict[str, Any]
    parameters: list[str] = Field(description="the placeholders' names: what document_parameters must fill")
    expires_in_hours: float | None
    in_progress_timeout_minutes: int | None
    configs: dict[str, Any]
    created_by: str | None
    created_at: datetime


class TemplatePage(BaseModel):
    templates: list[TemplateOut]
    limit: int
    next_after: str | None = Field(
        description="template_id to pass as `after` for the next page; null: the end"
    )


@router.post("", status_code=201, response_model=TemplateOut, responses=WRITER | CONFLICT | TOO_LARGE)
async def create_template(
    body: TemplateCreate, db: WriteDB, principal: CurrentPrincipal, now: Now
) -> dict[str, Any]:
    out = await templates.create_template(
        db,
        template_id=body.template_id,
        description=body.description,
        document_type=body.document_type,
        document=body.document,
        expires_in_hours=body.expires_in_hours,
        in_progress_timeout_minutes=body.in_progress_timeout_minutes,
        configs=body.configs.model_dump(mode="json", exclude_none=True),
        created_by=principal.email or principal.user_id,
        now=now,
    )
    details = {"document_type": body.document_type, "parameters": out["parameters"]}
    await audit.record(db, principal, "template.created", "template", body.template_id, details, now=now)
    return out


@router.get("", response_model=TemplatePage)
async def list_templates(
    db: ReadDB,
    limit: Limit = 50,
    after: Annotated[
        str | None,
        Query(max_length=64, pattern=r"^[A-Za-z0-9_-]*$", description="keyset: template_id to start after"),
    ] = None,
) -> dict[str, Any]:
    return await templates.list_templates(db, limit, after)


@router.get("/{template_id}", response_model=TemplateOut, responses=BAD_VALUE | NOT_FOUND)
async def get_template(template_id: str, db: ReadDB) -> dict[str, Any]:
    return await templates.get_template(db, template_id)


@router.delete("/{template_id}", response_model=TemplateOut, responses=BAD_VALUE | WRITER | NOT_FOUND)
async def delete_template(
    template_id: str, db: WriteDB, principal: CurrentPrincipal, now: Now
) -> dict[str, Any]:
    """Deletes the template (answering it as it was); jobs made from it keep its id in `template_id`."""
    out = await templates.delete_template(db, template_id)
    await audit.record(db, principal, "template.deleted", "template", template_id, {}, now=now)
    return out

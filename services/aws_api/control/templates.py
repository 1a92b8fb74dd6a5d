"""AWS IoT job templates: CreateJobTemplate, DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate over
shared/jobs/templates.py (the document's `${aws:iot:parameter:NAME}` placeholders filled by CreateJob's
documentParameters)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from aws_api.control import job_shapes as shapes
from aws_api.control.arns import JOB_ID, arn, check_name, compact, epoch, max_results, next_token, read_token
from aws_api.control.context import CONFLICT, INVALID, CallerDep, aws_error, parse_body, translated
from shared import audit
from shared.jobs import templates
from shared.jobs.configs import TemplateConfigs

router = APIRouter(tags=["aws iot job templates"])

PAGE, PAGE_MAX = 50, 250


def _arn(caller: Any, template_id: str) -> str:
    return arn(caller.region, caller.tenant_id, "jobtemplate", template_id)


@router.put("/job-templates/{jobTemplateId}")
async def create_job_template(jobTemplateId: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    body = await parse_body(request, shapes.CreateJobTemplateIn)
    template_id = check_name(jobTemplateId, "jobTemplateId", JOB_ID)
    shapes.refuse_unsupported(body)
    if body.document is None:
        raise aws_error(INVALID, "document is required (iotcloud does not make templates from a jobArn)")
    if len(body.description) > 2028:
        raise aws_error(INVALID, "description is over 2028 characters")
    document = shapes.parse_document(body.document)
    configs = TemplateConfigs(**shapes.configs(body))
    async with caller.tx(write=True) as conn:
        with translated(conflict=CONFLICT):
            out = await templates.create_template(
                conn,
                template_id=template_id,
                description=body.description,
                document_type=shapes.document_type(document),
                document=document,
                expires_in_hours=None,
                in_progress_timeout_minutes=shapes.timeout_minutes(body.timeoutConfig),
                configs=configs.model_dump(mode="json", exclude_none=True),
                created_by=caller.actor,
                now=caller.now,
            )
        details = {"document_type": out["document_type"], "parameters": out["parameters"], "via": "aws"}
        await audit.record(
            conn, caller.actor, "template.created", "template", template_id, details, now=caller.now
        )
    return {"jobTemplateArn": _arn(caller, template_id), "jobTemplateId": template_id}


@router.get("/job-templates/{jobTemplateId}")
async def describe_job_template(jobTemplateId: str, caller: CallerDep) -> dict[str, Any]:
    async with caller.tx() as conn:
        with translated():
            t = await templates.get_template(conn, jobTemplateId)
    configs = t["configs"] or {}
    schedule = configs.get("scheduling_config") or {}
    timeout = t["in_progress_timeout_minutes"]
    return compact(
        jobTemplateArn=_arn(caller, t["template_id"]),
        jobTemplateId=t["template_id"],
        description=t["description"],
        document=json.dumps(t["document"]),
        createdAt=epoch(t["created_at"]),
        jobExecutionsRolloutConfig=shapes.camel(configs.get("rollout_config")),
        abortConfig=shapes.camel(configs.get("abort_config")),
        jobExecutionsRetryConfig=shapes.camel(configs.get("retry_config")),
        maintenanceWindows=shapes.camel(schedule.get("maintenance_windows")) or None,
        timeoutConfig={"inProgressTimeoutInMinutes": timeout} if timeout else None,
    )


@router.get("/job-templates")
async def list_job_templates(request: Request, caller: CallerDep) -> dict[str, Any]:
    params = request.query_params
    limit = max_results(params.get("maxResults"), PAGE, PAGE_MAX)
    after = read_token(params.get("nextToken"), "after", str)
    async with caller.tx() as conn:
        page = await templates.list_templates(conn, limit, after)
    return compact(
        jobTemplates=[
            {
                "jobTemplateArn": _arn(caller, t["template_id"]),
                "jobTemplateId": t["template_id"],
                "description": t["description"],
                "createdAt": epoch(t["created_at"]),
            }
            for t in page["templates"]
        ],
        nextToken=next_token({"after": page["next_after"]} if page["next_after"] else None),
    )


@router.delete("/job-templates/{jobTemplateId}")
async def delete_job_template(jobTemplateId: str, caller: CallerDep) -> dict[str, Any]:
    async with caller.tx(write=True) as conn:
        with translated():
            await templates.delete_template(conn, jobTemplateId)
        await audit.record(
            conn, caller.actor, "template.deleted", "template", jobTemplateId, {"via": "aws"}, now=caller.now
        )
    return {}

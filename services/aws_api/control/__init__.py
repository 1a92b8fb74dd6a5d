"""AWS IoT's control plane (boto3's `iot` client, REST-JSON) over iotcloud's devices, groups, jobs and
templates. `router` holds every operation; the aws_api app mounts it."""

from __future__ import annotations

from fastapi import APIRouter

from aws_api.control import executions, jobs, templates, things

router = APIRouter()
for module in (things, jobs, executions, templates):
    router.include_router(module.router)

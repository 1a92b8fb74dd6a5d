"""Both OpenAPI specs document every status each route can send, with the body it really sends.

What a route can send follows from what it depends on (worked out here from its dependency tree, apart from
the routes' own `responses=`) and from what its domain calls refuse (the table below, read from the code).
A new route fails here until it is in the table and documents its statuses.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from ingest_iot.app import create_app as create_device_app
from ingest_iot.deps import device_credentials
from shared.infra.config import Settings
from ui_iot.app import create_app as create_ui_app
from ui_iot.deps import get_pool, get_principal, tenant_admin, tenant_writer, tenant_writer_pool

# What the domain and the database refuse, per operation, beyond authentication, outages and validation:
# 400 for a string that reaches SQL from the path or query (a NUL character) or a domain rule,
# 404 for an id that is not in the tenant, 409 for a conflict with the current state.
DOMAIN: dict[str, set[int]] = {
    "GET /health": set(),
    "GET /ready": {503},  # its own body: {"status", "database"}
    "POST /auth/token": {400, 401, 429},  # 429: the login guard (503 when busy, as when the database is out)
    "GET /auth/me": set(),
    "POST /customer/devices": {409},
    "POST /customer/devices/import": {400, 409},
    "GET /customer/devices": {400},
    "GET /customer/devices/{device_id}": {400, 404},
    "PATCH /customer/devices/{device_id}": {400, 404},
    "POST /customer/devices/{device_id}/revoke": {400, 404},
    "POST /customer/devices/{device_id}/rotate-token": {400, 404},
    "GET /customer/devices/{device_id}/twin": {400, 404},
    "PATCH /customer/devices/{device_id}/twin": {400, 404, 409},
    "POST /customer/groups": {409},
    "GET /customer/groups": {400},
    "GET /customer/groups/{group_id}": {400, 404},
    "DELETE /customer/groups/{group_id}": {400, 404},
    "POST /customer/groups/{group_id}/members": {400, 404},
    "DELETE /customer/groups/{group_id}/members/{device_id}": {400, 404},
    "POST /customer/jobs": {400, 404, 409},
    "GET /customer/jobs": {400},
    "GET /customer/jobs/{job_id}": {400, 404},
    "GET /customer/jobs/{job_id}/executions": {400, 404},
    "GET /customer/jobs/{job_id}/executions/{device_id}/events": {400, 404},
    "GET /customer/jobs/{job_id}/status-series": {404},
    "GET /customer/jobs/{job_id}/failure-reasons": {404},
    "DELETE /customer/jobs/{job_id}": {400, 404, 409},
    "POST /customer/jobs/{job_id}/cancel": {400, 404, 409},
    "POST /customer/jobs/{job_id}/executions/{device_id}/cancel": {400, 404, 409},
    "GET /customer/devices/{device_id}/jobs": {400, 404},
    "POST /customer/artifacts": {409, 413},  # a raw body: 413 past IOTCLOUD_ARTIFACT_MAX_BYTES
    "GET /customer/artifacts": set(),
    "GET /customer/artifacts/{name}": {400, 404},
    "DELETE /customer/artifacts/{name}": {400, 404, 409},
    "GET /customer/quotas": set(),
    "POST /customer/users": {409},
    "GET /customer/users": set(),
    "GET /customer/dashboard": set(),
    "PATCH /customer/users/{user_id}": {404, 409},
    "POST /customer/access-keys": set(),
    "GET /customer/access-keys": set(),
    "POST /customer/access-keys/{access_key_id}/revoke": {403, 404},
    "POST /customer/jobs/{job_id}/delete": {400, 404, 409},
    "POST /customer/jobs/{job_id}/executions/{device_id}/delete": {400, 404, 409},
    "POST /customer/job-templates": {409},
    "GET /customer/job-templates": set(),  # `after` has a pattern: no NUL reaches SQL
    "GET /customer/job-templates/{template_id}": {400, 404},
    "DELETE /customer/job-templates/{template_id}": {400, 404},
    "GET /customer/audit": {400},  # a time PostgreSQL cannot hold (year 1 at +23:00)
    "GET /customer/events": set(),  # a stream; 503 while the server stops, as outages
    "GET /device/v1/shadow": set(),
    "POST /device/v1/shadow/reported": {409},
    "GET /device/v1/jobs/pending": {304},  # If-None-Match: unchanged (503 past the waiters limit, as outages)
    "PUT /device/v1/jobs/{job_id}/execution": {400, 404, 409},
    "POST /device/v1/jobs/start-next": {400, 409},  # 409: the next execution refused the claim (its deadline)
    "GET /device/v1/jobs/{job_id}/execution": {400, 404},
    # the signed URL is the credential (403); Range: 206, 416, 400 for a malformed header; its own pool use: 503
    "GET /device/v1/artifacts/{token}": {206, 400, 403, 404, 416, 503},
}

# Statuses that follow from a dependency: the bearer token, a write, the device token (and its failure
# limiter), the database.
BY_DEPENDENCY: list[tuple[Callable[..., Any], set[int]]] = [
    (get_principal, {401, 429}),  # 429: the rate limit per user
    (tenant_writer, {403}),
    (tenant_admin, {403}),
    (tenant_writer_pool, {403}),
    (device_credentials, {401, 429}),
    (get_pool, {503}),
    (device_credentials, {503}),
]


def _apps() -> Iterator[FastAPI]:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(secret="t", home=Path(home), static_dir=Path(home) / "none")
        yield create_ui_app(settings, "postgresql://unused/t")
        yield create_device_app(settings, "postgresql://unused/t")


APPS = list(_apps())


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dep in dependant.dependencies:
        yield from _walk(dep)


def sent_statuses(route: RouteContext) -> set[int]:
    """What the route can answer, worked out from its signature and dependencies, plus DOMAIN."""
    statuses = {route.status_code or 200}
    dependants = list(_walk(route.dependant))
    calls = {dep.call for dep in dependants}
    for dependency, codes in BY_DEPENDENCY:
        if dependency in calls:
            statuses |= codes
    for dep in dependants:
        if dep.body_params:
            statuses |= {413, 422}
        if dep.path_params or dep.query_params or dep.header_params:
            statuses.add(422)
    return statuses | DOMAIN[_label(route)]


def _label(route: RouteContext) -> str:
    [method] = route.methods
    return f"{method} {route.path_format}"


def _routes() -> list[tuple[FastAPI, RouteContext]]:
    """Every documented route, with its prefix and its routers' dependencies and responses."""
    return [
        (app, route)
        for app in APPS
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and route.include_in_schema
    ]


@pytest.mark.parametrize(
    ("app", "route"),
    _routes(),
    ids=lambda v: _label(v) if isinstance(v, RouteContext) else v.title.split()[1],
)
def test_every_status_a_route_sends_is_documented(app: FastAPI, route: RouteContext) -> None:
    assert _label(route) in DOMAIN, f"{_label(route)}: new route, add what its domain calls refuse to DOMAIN"
    [method] = route.methods
    documented = {
        int(code) for code in app.openapi()["paths"][route.path_format][method.lower()]["responses"]
    }
    assert documented == sent_statuses(route)


def test_the_table_names_only_existing_routes() -> None:
    assert set(DOMAIN) == {_label(route) for _, route in _routes()}


@pytest.mark.parametrize("app", APPS, ids=lambda a: a.title)
def test_error_answers_document_the_error_body(app: FastAPI) -> None:
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for code, response in op["responses"].items():
                if int(code) < 400 or (path == "/ready" and code == "503"):
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                schema = schemas[ref.rsplit("/", 1)[-1]]
                assert {"error", "detail"} <= set(schema["required"]), (method, path, code, ref)
                if code == "422":
                    assert ref.endswith("/HTTPValidationError")
                if code == "401":
                    assert "WWW-Authenticate" in response["headers"]


@pytest.mark.parametrize("app", APPS, ids=lambda a: a.title.split()[1])
def test_text_parameters_say_they_cannot_hold_nul(app: FastAPI) -> None:
    """A NUL in a path or query string is BAD_VALUE's 400 (PostgreSQL text cannot hold it): the spec rules
    it out, so a client or a fuzzer that keeps to the spec never meets that 400."""
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            for parameter in op.get("parameters", ()):
                if parameter["in"] not in ("path", "query"):
                    continue
                for option in (parameter["schema"], *parameter["schema"].get("anyOf", ())):
                    if option.get("type") == "string":
                        assert "pattern" in option or "enum" in option, (method, path, parameter["name"])

"""The AWS-compatible API (IOTCLOUD_AWS_PORT, default 8090; docs/aws-compat.md): boto3's `iot-jobs-data` (and
`iot`) clients pointed at it with `endpoint_url` and iotcloud credentials, signed with SigV4. Every error is
AWS's REST-JSON error (aws_api/errors.py), so botocore raises the exception classes AWS's would."""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from aws_api import control, data_plane
from aws_api.errors import AwsError, aws_error_handler, aws_error_response, unavailable
from shared.errors import DomainError
from shared.infra.config import Settings
from shared.infra.db import DB_UNAVAILABLE, TX_CONFLICTS
from shared.web.service_app import build_app

log = logging.getLogger("iotcloud.aws_api")

# iotcloud's own errors, where one reaches this API, by status: AWS's code for it
_CODES = {
    400: "InvalidRequestException",
    401: "UnrecognizedClientException",
    403: "ForbiddenException",
    404: "ResourceNotFoundException",
    405: "InvalidRequestException",
    409: "ConflictException",
    413: "InvalidRequestException",
    429: "ThrottlingException",
    503: "ServiceUnavailableException",
}


def _code(status: int) -> str:
    return _CODES.get(status, "InvalidRequestException" if status < 500 else "InternalFailureException")


def install_aws_error_handlers(app: FastAPI) -> None:
    """AWS's errors for everything the app can answer with an error (replacing iotcloud's JSON errors)."""
    app.add_exception_handler(AwsError, aws_error_handler)

    async def _domain(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return aws_error_response(AwsError(exc.status_code, _code(exc.status_code), exc.message))

    async def _validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return aws_error_response(
            AwsError(400, "InvalidRequestException", f"{where}: {first.get('msg', '')}")
        )

    async def _http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        message = "Not Found" if status == 404 else str(exc.detail)
        return aws_error_response(AwsError(status, _code(status), message))

    async def _db_down(_: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", type(exc).__name__)
        return aws_error_response(unavailable())

    async def _data(_: Request, exc: Exception) -> Response:
        return aws_error_response(AwsError(400, "InvalidRequestException", "invalid value"))

    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    for exc_class in (*DB_UNAVAILABLE, *TX_CONFLICTS):
        app.add_exception_handler(exc_class, _db_down)
    app.add_exception_handler(asyncpg.DataError, _data)
    app.add_exception_handler(asyncpg.CheckViolationError, _data)


class SigningNameRouter:
    """AWS serves its control plane (`iot`) and its jobs data plane (`iot-jobs-data`) on different hosts, and
    some of their paths are the same (GET /things/{thingName}/jobs is ListJobExecutionsForThing on one and
    GetPendingJobExecutions on the other). Here both share one endpoint: a request signed for
    `iot-jobs-data` (its credential scope says so) goes to the data plane's routes (/jobs-data). Only the
    routing looks at it; the route then verifies the signature for that service over the raw path as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(data_plane.PREFIX + "/"):
            for name, value in scope["headers"]:
                if name == b"authorization" and b"/iot-jobs-data/aws4_request" in value:
                    scope = {**scope, "path": data_plane.PREFIX + scope["path"]}
                    break
        await self.app(scope, receive, send)


def create_app(settings: Settings, dsn: str) -> FastAPI:
    app = build_app(
        service="aws",
        title="iotcloud AWS-compatible API",
        description="AWS IoT Jobs' control plane (boto3 `iot`) and HTTPS data plane (boto3 `iot-jobs-data`), "
        "authenticated with AWS Signature Version 4.",
        settings=settings,
        dsn=dsn,
        max_body=256 * 1024,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_aws_error_handlers(app)
    app.add_middleware(SigningNameRouter)
    app.state.secret = (
        settings.signing_secret()
    )  # access key secrets are encrypted with a key derived from it
    app.include_router(data_plane.router)
    app.include_router(control.router)  # the control plane (boto3 `iot`): aws_api/control/
    return app

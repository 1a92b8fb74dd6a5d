"""A live AWS-compatible API for tests, and operators' access keys to sign its requests with."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.support.servers import LiveServer


def _install_standin() -> None:
    """TEMPORARY stand-in for aws_api.sigv4/errors until the awsdata branch lands (no signature check)."""
    from dataclasses import dataclass as dc

    from fastapi.responses import JSONResponse

    errors = types.ModuleType("aws_api.errors")

    class AwsError(Exception):
        def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
            super().__init__(message)
            self.status, self.code, self.message, self.extra = status, code, message, extra

    async def aws_error_handler(request: Any, exc: Exception) -> Any:
        assert isinstance(exc, AwsError)
        return JSONResponse({"message": exc.message}, exc.status, headers={"x-amzn-ErrorType": exc.code})

    errors.AwsError = AwsError  # type: ignore[attr-defined]
    errors.aws_error_handler = aws_error_handler  # type: ignore[attr-defined]
    sigv4 = types.ModuleType("aws_api.sigv4")

    @dc(frozen=True)
    class AwsPrincipal:
        tenant_id: str
        kind: str
        role: str | None
        device_id: str | None
        access_key_id: str

    async def authenticate(request: Any, service: str) -> AwsPrincipal:
        header = request.headers.get("authorization", "")
        key = header.split("Credential=", 1)[1].split("/", 1)[0]
        tenant, role = STANDIN_KEYS[key]
        return AwsPrincipal(tenant, "operator", role, None, key)

    sigv4.AwsPrincipal = AwsPrincipal  # type: ignore[attr-defined]
    sigv4.authenticate = authenticate  # type: ignore[attr-defined]
    sys.modules["aws_api.errors"] = errors
    sys.modules["aws_api.sigv4"] = sigv4


STANDIN_KEYS: dict[str, tuple[str, str]] = {}
try:
    import aws_api.sigv4  # noqa: F401
except ImportError:
    _install_standin()


@dataclass
class AwsApi:
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url

    def set_clock(self, now: datetime | None) -> None:
        self.server.app.state.clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))

    async def access_key(self, tenant_id: str, role: str) -> tuple[str, str]:
        key = f"AKIASTANDIN{len(STANDIN_KEYS):09d}"
        STANDIN_KEYS[key] = (tenant_id, role)
        return key, "secret-" + key

    async def stop(self) -> None:
        await self.server.stop()


async def start_aws_api(services: Any) -> AwsApi:
    from aws_api.errors import AwsError, aws_error_handler

    from aws_api import control
    from shared.web.service_app import build_app

    app = build_app(
        service="aws",
        title="aws",
        description="aws",
        settings=services.settings,
        dsn=services.db.app_url,
        max_body=256 * 1024,
    )
    app.add_exception_handler(AwsError, aws_error_handler)
    app.include_router(control.router)
    return AwsApi(await LiveServer(app).start())

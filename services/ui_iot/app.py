"""Operator API and web console host (port 8000)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from shared.infra.assets import console_dir
from shared.infra.config import Settings
from shared.web.http import allowed_methods, error_response, method_not_allowed
from shared.web.service_app import build_app
from ui_iot.routes import auth, devices, groups, jobs

DEFAULT_STATIC = console_dir()  # frontend/dist of the checkout, or the installed wheel's copy
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
API_PREFIXES = ("/customer", "/auth", "/docs", "/openapi.json", "/redoc", "/health", "/ready")


def create_app(settings: Settings, dsn: str) -> FastAPI:
    app = build_app(
        title="iotcloud operator API",
        description="Tenants' operators manage devices, groups, twins and fleet jobs.",
        settings=settings,
        dsn=dsn,
        max_body=256 * 1024,
    )
    app.state.secret = settings.signing_secret()
    for module in (auth, devices, groups, jobs):
        app.include_router(module.router)
    mount_console(app, settings.static_dir or DEFAULT_STATIC)
    return app


def mount_console(app: FastAPI, static_dir: Path) -> None:
    """Serve the built web console at / (SPA: unknown non-API paths get index.html)."""
    index = static_dir / "index.html"
    if not index.exists():

        @app.get("/", include_in_schema=False)
        async def no_console() -> Response:
            return error_response(
                404, "not_found", "web console not built: run `make frontend` (API docs at /docs)"
            )

        return
    assets = static_dir / "assets"
    if assets.exists():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")

    # Every method, so that an API path asked with a method it does not serve gets its 405 (and the Allow
    # header of all its routes) here, and not a console page or Starlette's 405 naming the first route.
    @app.api_route("/{path:path}", methods=ALL_METHODS, include_in_schema=False)
    async def console(path: str, request: Request) -> Response:
        if path.startswith(tuple(p.lstrip("/") for p in API_PREFIXES)):
            if allowed_methods(app, request.url.path):
                return method_not_allowed(app, request.url.path)
            return error_response(404, "not_found", "no such route")
        if request.method not in ("GET", "HEAD"):
            return error_response(405, "method_not_allowed", "Method Not Allowed", headers={"Allow": "GET"})
        candidate = (static_dir / path).resolve()
        if path and candidate.is_file() and static_dir.resolve() in candidate.parents:
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

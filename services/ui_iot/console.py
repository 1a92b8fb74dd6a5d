"""The web console's files, served by the operator API at / (a single-page app: unknown non-API paths get
index.html), and the console page's Content-Security-Policy.

The policy is strict: scripts only from this origin (no inline script, no eval), nothing else loaded from
elsewhere, no plugins, no <base>, no framing. Mantine writes its CSS variables into <style> elements at run
time; those carry a nonce made for each response of the page, which the page hands to Mantine through
<meta name="csp-nonce"> (frontend/src/app/App.tsx, getStyleNonce), so style-src needs no 'unsafe-inline'.
A script that could read the nonce already runs, and the nonce lets in styles only."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from shared.web.http import allowed_methods, error_response, method_not_allowed

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
API_PREFIXES = ("/customer", "/auth", "/docs", "/openapi.json", "/redoc", "/health", "/ready")

CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

_HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)


class ConsolePage:
    """index.html with a fresh style nonce in each response (and in the policy that goes with it)."""

    def __init__(self, html: bytes) -> None:
        head = _HEAD.search(html)  # without one, the meta goes first: the browser puts it into the head
        cut = head.end() if head else 0
        self.before, self.after = html[:cut], html[cut:]

    def response(self) -> Response:
        nonce = secrets.token_urlsafe(18)
        meta = f'<meta name="csp-nonce" content="{nonce}">'.encode()
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CONSOLE_CSP.format(nonce=nonce)}
        return HTMLResponse(self.before + meta + self.after, headers=headers)


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
    page = ConsolePage(index.read_bytes())
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
            if candidate == index.resolve():
                return page.response()
            return FileResponse(candidate)
        return page.response()

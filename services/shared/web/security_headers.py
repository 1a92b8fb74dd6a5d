"""Security headers on every answer of both APIs and the console (docs/operations.md):
- Content-Security-Policy: API answers (JSON) may load nothing at all; the console's page gets its own
  policy with a per-response style nonce (ui_iot/console.py); the API docs pages (/docs, /redoc) allow the
  CDN they load Swagger UI / ReDoc from and, by hash, exactly the inline script FastAPI writes into them.
- X-Frame-Options DENY, X-Content-Type-Options nosniff, Referrer-Policy no-referrer.
- Strict-Transport-Security only over TLS: the request's scheme is https, either served so or said so by
  a proxy that uvicorn trusts (X-Forwarded-Proto from FORWARDED_ALLOW_IPS, 127.0.0.1 by default)."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (
    "default-src 'none'; script-src {hashes} "
    + CDN
    + "; style-src 'unsafe-inline' "
    + CDN
    + " https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src " + CDN + " "
    "https://fonts.gstatic.com; connect-src 'self'; worker-src blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HSTS = "max-age=31536000; includeSubDomains"

COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def script_hashes(html: bytes) -> str:
    """CSP source expressions for the inline scripts of `html` (those without src)."""
    digests = [hashlib.sha256(m.group(1)).digest() for m in _INLINE_SCRIPT.finditer(html)]
    return " ".join(f"'sha256-{base64.b64encode(d).decode()}'" for d in digests) or "'none'"


def with_security_headers(message: Message, csp: str, tls: bool) -> Message:
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    extra = [h for h in COMMON if h[0] not in present]
    if b"content-security-policy" not in present:
        extra.append((b"content-security-policy", csp.encode()))
    if tls:
        extra.append((b"strict-transport-security", HSTS.encode()))
    return {**message, "headers": headers + extra}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = scope.get("scheme") == "https"
        if scope["path"] in DOCS_PATHS:
            await self._docs_page(scope, receive, send, tls)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = with_security_headers(message, API_CSP, tls)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send, tls: bool) -> None:
        """The docs page is small and rare: buffered whole, so its inline scripts can be hashed."""
        start: Message | None = None
        body = bytearray()

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, buffer)
        assert start is not None
        await send(with_security_headers(start, DOCS_CSP.format(hashes=script_hashes(bytes(body))), tls))
        await send({"type": "http.response.body", "body": bytes(body)})

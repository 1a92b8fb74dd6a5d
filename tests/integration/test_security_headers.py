"""Security headers on both APIs and the console: a strict CSP (the console page's with a fresh style
nonce per response, the docs pages' with the hashes of exactly their inline scripts), framing and sniffing
refused, no referrer; HSTS only when the request came over TLS (as uvicorn's trusted-proxy check says)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from shared.web.security_headers import SecurityHeadersMiddleware
from tests.conftest import Services, Tenant
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app

INDEX = b"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <script type="module" crossorigin src="/assets/app.js"></script>
  </head>
  <body><div id="root"></div></body>
</html>
"""


def assert_common(headers: httpx.Headers) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in headers  # plain http


def directives(csp: str) -> dict[str, str]:
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in csp.split(";") if d.strip()}


@pytest.fixture
async def console(services: Services, settings: Settings, tmp_path: Path) -> AsyncIterator[str]:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "assets" / "app.js").write_text("console.log('hi')\n")
    ui = await LiveServer(
        create_ui_app(settings.model_copy(update={"static_dir": tmp_path}), services.db.app_url)
    ).start()
    try:
        yield ui.url
    finally:
        await ui.stop()


async def test_api_answers_load_nothing_and_cannot_be_framed(services: Services, tenant: Tenant) -> None:
    async with httpx.AsyncClient(timeout=30) as c:
        answers = [
            await c.get(f"{services.ui.url}/customer/jobs", headers=tenant.auth),
            await c.get(f"{services.ui.url}/customer/jobs"),  # 401
            await c.post(
                f"{services.ui.url}/customer/jobs", headers=tenant.auth, content=b"x" * 300_000
            ),  # 413
            await c.get(f"{services.device.url}/device/v1/jobs/pending"),  # 401
            await c.get(f"{services.device.url}/ready"),
            await c.get(f"{services.device.url}/nope"),  # 404
        ]
    assert [r.status_code for r in answers] == [200, 401, 413, 401, 200, 404]
    for r in answers:
        assert_common(r.headers)
        csp = directives(r.headers["content-security-policy"])
        assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
        assert csp["base-uri"] == "'none'"


async def test_hsts_only_over_tls_said_by_a_trusted_proxy(services: Services) -> None:
    """uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (FORWARDED_ALLOW_IPS' default), as from a local
    TLS-terminating proxy; the middleware itself believes only the scheme uvicorn settled on."""
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.get(f"{services.device.url}/health", headers={"X-Forwarded-Proto": "https"})
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
        r = await c.get(f"{services.ui.url}/health")
        assert "strict-transport-security" not in r.headers

    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]

    async def capture(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/x", "scheme": "http", "headers": [(b"x-forwarded-proto", b"https")]}
    await SecurityHeadersMiddleware(app)(scope, None, capture)  # type: ignore[arg-type]
    names = {k for k, _ in sent[0]["headers"]}  # type: ignore[attr-defined]
    assert b"strict-transport-security" not in names and b"x-frame-options" in names


async def test_console_page_gets_a_strict_policy_with_a_fresh_style_nonce(console: str) -> None:
    async with httpx.AsyncClient(base_url=console, timeout=30) as c:
        pages = [await c.get(path) for path in ("/", "/jobs/some-job", "/index.html")]
        asset = await c.get("/assets/app.js")
    nonces = []
    for r in pages:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert_common(r.headers)
        csp = r.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        d = directives(csp)
        assert d["script-src"] == "'self'" and d["object-src"] == "'none'" and d["base-uri"] == "'none'"
        assert d["frame-ancestors"] == "'none'" and d["connect-src"] == "'self'"
        match = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{20,})'", d["style-src"])
        assert match, d["style-src"]
        nonce = match.group(1)
        assert f'<meta name="csp-nonce" content="{nonce}">' in r.text  # the page hands it to Mantine
        assert r.text.count("<script") == 1 and 'src="/assets/app.js"' in r.text  # no inline script
        nonces.append(nonce)
    assert len(set(nonces)) == len(nonces)  # one per response
    assert asset.status_code == 200
    assert_common(asset.headers)


async def test_docs_page_allows_exactly_its_inline_script(services: Services) -> None:
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.get(f"{services.device.url}/docs")
    assert r.status_code == 200
    assert_common(r.headers)
    inline = re.findall(rb"<script>(.*?)</script>", r.content, re.DOTALL)
    assert inline
    d = directives(r.headers["content-security-policy"])
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert f"'sha256-{digest}'" in d["script-src"]
    assert "unsafe-inline" not in d["script-src"] and d["frame-ancestors"] == "'none'"


async def test_an_unhandled_error_still_gets_the_headers_and_the_request_id(
    services: Services, settings: Settings
) -> None:
    app = create_device_app(settings, services.db.app_url)  # no console catch-all in front of new routes

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/device/v1/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/device/v1/boom", headers={"X-Request-ID": "oops-1"})
    assert r.status_code == 500 and r.headers["x-request-id"] == "oops-1"
    assert_common(r.headers)
    assert directives(r.headers["content-security-policy"])["default-src"] == "'none'"

"""IOTCLOUD_LOG_FORMAT=json: one JSON object per line, an access line per request with its id (the
client's X-Request-ID when sane, else a generated one, echoed in the response), tenant, route template,
status and duration; a line logged inside a request carries the same id; no secret in any line."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from shared.observability.logs import JsonFormatter, configure_logging
from tests.conftest import TEST_SECRET, Services, Tenant
from tests.support.servers import LiveServer, free_port
from ui_iot.app import create_app as create_ui_app


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class JsonApps:
    ui: LiveServer
    device: LiveServer
    lines: list[str]

    def objects(self) -> list[dict[str, Any]]:
        out = []
        for line in self.lines:
            assert "\n" not in line
            obj = json.loads(line)
            assert isinstance(obj, dict)
            out.append(obj)
        return out

    def access(self) -> list[dict[str, Any]]:
        return [o for o in self.objects() if o["logger"] == "iotcloud.access"]


@pytest.fixture
def captured() -> Iterator[_Lines]:
    handler = _Lines()
    root, iot = logging.getLogger(), logging.getLogger("iotcloud")
    old_level = iot.level
    root.addHandler(handler)
    iot.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    iot.setLevel(old_level)


@pytest.fixture
async def json_apps(services: Services, settings: Settings, captured: _Lines) -> AsyncIterator[JsonApps]:
    json_settings = settings.model_copy(update={"log_format": "json"})
    ui = await LiveServer(create_ui_app(json_settings, services.db.app_url)).start()
    device = await LiveServer(create_device_app(json_settings, services.db.app_url)).start()
    try:
        yield JsonApps(ui, device, captured.lines)
    finally:
        await ui.stop()
        await device.stop()


async def test_access_lines_carry_request_id_tenant_route_status_duration(
    json_apps: JsonApps, tenant: Tenant
) -> None:
    [dev] = await tenant.create_devices(1)
    email, password = f"admin@{tenant.tenant_id}.test", "password-123"
    async with httpx.AsyncClient(base_url=json_apps.ui.url, timeout=30) as ui:
        r = await ui.post("/auth/token", data={"username": email, "password": password})
        assert r.status_code == 200
        jwt = r.json()["access_token"]
        auth = {"Authorization": f"Bearer {jwt}"}
        r = await ui.get("/customer/devices/" + dev, headers={**auth, "X-Request-ID": "trace-abc.123"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "trace-abc.123"
        r = await ui.get("/customer/jobs/nope", headers={**auth, "X-Request-ID": "bad id\twith spaces"})
        assert r.status_code == 404
        generated = r.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        long_id = "x" * 129
        r = await ui.get("/health", headers={"X-Request-ID": long_id})
        assert r.headers["x-request-id"] != long_id
    async with httpx.AsyncClient(base_url=json_apps.device.url, timeout=30) as device:
        token = tenant.tokens[dev]
        r = await device.get("/device/v1/jobs/pending", headers={"X-Provision-Token": token})
        assert r.status_code == 200
        r = await device.get("/device/v1/shadow", headers={"X-Provision-Token": token})
        assert r.status_code == 200
        r = await device.get("/device/v1/jobs/pending", headers={"X-Provision-Token": "wrong-" + token})
        assert r.status_code == 401

    lines = json_apps.access()
    by_id = {line["request_id"]: line for line in lines}
    traced = by_id["trace-abc.123"]
    assert traced["service"] == "ui" and traced["level"] == "INFO" and traced["method"] == "GET"
    assert traced["route"] == "/customer/devices/{device_id}" and traced["status"] == 200
    assert traced["tenant"] == tenant.tenant_id and isinstance(traced["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", traced["time"])
    missing = by_id[generated]
    assert missing["route"] == "/customer/jobs/{job_id}" and missing["status"] == 404
    device_lines = [line for line in lines if line["service"] == "device"]
    assert {(d["route"], d["status"]) for d in device_lines} >= {
        ("/device/v1/jobs/pending", 200),
        ("/device/v1/jobs/pending", 401),
    }
    shadow = [d for d in device_lines if d["route"] == "/device/v1/shadow"]
    assert shadow and shadow[0]["tenant"] == tenant.tenant_id  # known once the token is checked
    everything = "\n".join(json_apps.lines)
    for secret in (password, jwt, tenant.tokens[dev], TEST_SECRET, tenant.token):
        assert secret not in everything


async def test_a_line_logged_inside_a_request_carries_its_id(json_apps: JsonApps) -> None:
    dead = json_apps  # the 503 of an unreachable database is logged inside the request
    settings = dead.ui.app.state.settings
    ui = await LiveServer(create_ui_app(settings, f"postgresql://x@127.0.0.1:{free_port()}/x")).start()
    try:
        async with httpx.AsyncClient(base_url=ui.url, timeout=30) as c:
            r = await c.post(
                "/auth/token",
                data={"username": "a@b.c", "password": "pw-1234567"},
                headers={"X-Request-ID": "r-503"},
            )
        assert r.status_code == 503
    finally:
        await ui.stop()
    mine = [o for o in dead.objects() if o.get("request_id") == "r-503"]
    assert {o["logger"] for o in mine} >= {"iotcloud.http", "iotcloud.access"}
    warning = next(o for o in mine if o["logger"] == "iotcloud.http")
    assert warning["level"] == "WARNING" and warning["route"] == "/auth/token"
    assert "pw-1234567" not in "\n".join(dead.lines)


def test_configure_logging_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="IOTCLOUD_LOG_FORMAT"):
        configure_logging("INFO", "xml")

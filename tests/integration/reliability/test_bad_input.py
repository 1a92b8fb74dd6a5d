"""Hostile and malformed input: each gets a 4xx JSON answer and changes nothing stored."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.reliability.accounts import Account, create_devices
from tests.integration.reliability.conftest import Apps
from tests.integration.reliability.snapshot import tenant_state
from tests.integration.reliability.tally import client

SERVICES = Path(__file__).resolve().parents[3] / "services"


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


JSON = {"content-type": "application/json"}
INJECT = ["' OR '1'='1", "x'; DROP TABLE jobs; --", "1 OR 1=1", "%27%20OR%201%3D1--", "$1", "\\x00"]
PATH_TRICKS = ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "a%00b", "%F0%9F%92%A9", "a" * 600, "%ZZ", "*"]

# (method, path, request kwargs) aimed at the operator API; every one must be refused with a 4xx.
OPERATOR_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/customer/devices", {"content": b'{"device_id": ', "headers": JSON}),
    ("POST", "/customer/devices", {"content": b"\xff\xfe{}", "headers": JSON}),
    (
        "POST",
        "/customer/devices",
        {"content": b'{"device_id": "x1"}', "headers": {"content-type": "text/plain"}},
    ),
    (
        "POST",
        "/customer/devices",
        {"content": b"device_id=x2", "headers": {"content-type": "application/x-www-form-urlencoded"}},
    ),
    ("POST", "/customer/devices", {"content": b"[]", "headers": JSON}),
    ("POST", "/customer/devices", {"content": b'"just a string"', "headers": JSON}),
    ("POST", "/customer/devices", {"json": {"device_id": "x" * 300}}),
    ("POST", "/customer/devices", {"json": {"device_id": "ünï-çødé"}}),
    ("POST", "/customer/devices", {"json": {"device_id": "ok-1", "name": "nul\x00byte"}}),
    ("POST", "/customer/devices", {"json": {"device_id": "ok-2", "attributes": {"k": "v\x00"}}}),
    ("POST", "/customer/devices", {"content": b'{"device_id": "ok-3", "name": "\\ud800"}', "headers": JSON}),
    (
        "POST",
        "/customer/devices",
        {"content": b'{"device_id": "ok-4", "attributes": {"\\udfff": 1}}', "headers": JSON},
    ),
    (
        "POST",
        "/customer/devices",
        {"content": ('{"device_id": "ok-5", "attributes": ' + nested(40) + "}").encode(), "headers": JSON},
    ),
    (
        "POST",
        "/customer/devices",
        {"content": ('{"device_id": "ok-6", "attributes": ' + nested(20000) + "}").encode(), "headers": JSON},
    ),
    ("POST", "/customer/devices", {"json": {"device_id": "ok-7", "attributes": {"big": "x" * 20000}}}),
    ("POST", "/customer/devices", {"content": b"{" + b'"a": 1, ' * 40000 + b'"b": 2}', "headers": JSON}),
    ("POST", "/customer/devices", {"json": {"device_id": "ok-8", "unknown_field": 1}}),
    (
        "POST",
        "/customer/jobs",
        {"json": {"document_type": "ota", "target_all": True, "expires_in_hours": -1}},
    ),
    (
        "POST",
        "/customer/jobs",
        {"json": {"document_type": "ota", "target_all": True, "expires_in_hours": 1e308}},
    ),
    (
        "POST",
        "/customer/jobs",
        {"json": {"document_type": "ota", "target_all": True, "target_group_id": "g"}},
    ),
    (
        "POST",
        "/customer/jobs",
        {"json": {"job_id": "x'; DROP TABLE jobs;--", "document_type": "ota", "target_all": True}},
    ),
    (
        "POST",
        "/customer/jobs",
        {
            "content": b'{"document_type": "ota", "target_all": true, "expires_in_hours": NaN}',
            "headers": JSON,
        },
    ),
    (
        "POST",
        "/customer/jobs",
        {
            "content": b'{"document_type": "ota", "target_all": true, "expires_in_hours": 1e999}',
            "headers": JSON,
        },
    ),
    ("GET", "/customer/jobs", {"params": {"limit": "-1"}}),
    ("GET", "/customer/jobs", {"params": {"limit": "99999999999999999999999"}}),
    ("GET", "/customer/jobs", {"params": {"status": "' OR 1=1 --"}}),
    ("GET", "/customer/devices", {"params": {"offset": "1e3"}}),
    ("PATCH", "/customer/devices/dev-00000/twin", {"json": {"desired": {"x": 1}, "expected_version": 2**70}}),
    ("PATCH", "/customer/devices/dev-00000/twin", {"json": {"desired": "not an object"}}),
    ("PUT", "/customer/devices", {"json": {}}),
]


def _cases_for_paths() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for bad in INJECT + PATH_TRICKS:
        out += [
            ("GET", f"/customer/devices/{bad}", {}),
            ("PATCH", f"/customer/devices/{bad}", {"json": {"name": "pwned"}}),
            ("POST", f"/customer/devices/{bad}/revoke", {}),
            ("PATCH", f"/customer/devices/{bad}/twin", {"json": {"desired": {"pwned": True}}}),
            ("GET", f"/customer/jobs/{bad}", {}),
            ("DELETE", f"/customer/jobs/{bad}", {}),
            ("DELETE", f"/customer/groups/{bad}", {}),
            ("POST", f"/customer/groups/{bad}/members", {"json": {"device_ids": ["dev-00000"]}}),
        ]
    return out


async def _expect_4xx(api: httpx.AsyncClient, method: str, path: str, kw: dict[str, Any]) -> int:
    r = await api.request(method, path, **kw)
    assert 400 <= r.status_code < 500, f"{method} {path} {kw} -> {r.status_code} {r.text[:300]}"
    assert r.headers.get("content-type", "").startswith("application/json"), f"{method} {path}: {r.headers}"
    body = r.json()
    assert isinstance(body.get("error"), str) and body.get("detail"), f"{method} {path}: unclear error {body}"
    return r.status_code


async def _prepare(apps: Apps, account: Account) -> None:
    await create_devices(account, apps.ui.url, 2)
    async with client(apps.ui.url, headers=account.auth) as api:
        assert (await api.post("/customer/groups", json={"group_id": "g", "name": "g"})).status_code == 201
        r = await api.post("/customer/jobs", json={"job_id": "j", "document_type": "ota", "target_all": True})
        assert r.status_code == 201, r.text


async def test_operator_api_refuses_bad_input_and_changes_nothing(apps: Apps, account: Account) -> None:
    await _prepare(apps, account)
    before = await tenant_state(apps.db.owner_url, account.tenant_id)
    codes: dict[int, int] = {}
    async with client(apps.ui.url, headers=account.auth) as api:
        for method, path, kw in OPERATOR_CASES + _cases_for_paths():
            code = await _expect_4xx(api, method, path, kw)
            codes[code] = codes.get(code, 0) + 1
        big = await api.post("/customer/devices", content=b"x" * (300 * 1024), headers=JSON)
        assert big.status_code == 413 and big.json()["error"] == "payload_too_large"

        async def stream() -> Any:
            for _ in range(40):
                yield b"x" * 16384

        chunked = await api.post("/customer/devices", content=stream(), headers=JSON)
        assert chunked.status_code == 413 and chunked.json()["error"] == "payload_too_large"
        # Filters are bound, not spliced: an injection in a filter matches nothing rather than everything.
        r = await api.get("/customer/jobs", params={"document_type": "x' OR '1'='1"})
        assert r.status_code == 200 and r.json()["jobs"] == []
        r = await api.get("/customer/devices/dev-00000")
        assert r.status_code == 200  # the server still works after all that
    assert await tenant_state(apps.db.owner_url, account.tenant_id) == before
    print(f"\noperator API bad input: {sum(codes.values())} requests, answers {sorted(codes.items())}")


async def test_device_api_refuses_bad_input_and_changes_nothing(apps: Apps, account: Account) -> None:
    await _prepare(apps, account)
    before = await tenant_state(apps.db.owner_url, account.tenant_id, ignore=("last_seen_at",))
    token = {"X-Provision-Token": account.tokens["dev-00000"]}
    put = "/device/v1/jobs/j/execution"
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", put, {"content": b"{not json", "headers": JSON}),
        ("PUT", put, {"content": b'{"status": "IN_PROGRESS"}', "headers": {"content-type": "text/plain"}}),
        ("PUT", put, {"json": {"status": "SUCCEEDED"}}),  # illegal from QUEUED: 409
        ("PUT", put, {"json": {"status": "TIMED_OUT"}}),  # only the worker may
        ("PUT", put, {"json": {"status": "IN_PROGRESS", "status_details": {"x": "y" * 17000}}}),
        ("PUT", put, {"json": {"status": "IN_PROGRESS", "status_details": {"x": "\x00"}}}),
        (
            "PUT",
            put,
            {"content": b'{"status": "IN_PROGRESS", "status_details": {"s": "\\ud83d"}}', "headers": JSON},
        ),
        (
            "PUT",
            put,
            {
                "content": ('{"status": "IN_PROGRESS", "status_details": ' + nested(5000) + "}").encode(),
                "headers": JSON,
            },
        ),
        ("PUT", put, {"json": {"status": "IN_PROGRESS", "status_details": "text"}}),
        ("PUT", put, {"json": {"status": "IN_PROGRESS", "expected_execution_number": 0}}),
        ("PUT", put, {"json": {"status": "IN_PROGRESS", "expected_execution_number": 2**80}}),
        ("PUT", put, {"json": {"status": "IN_PROGRESS", "expected_execution_number": 2**62}}),
        ("POST", "/device/v1/shadow/reported", {"json": {"reported": {"a": "\x00"}}}),
        ("POST", "/device/v1/shadow/reported", {"json": {"reported": {"a": 1}, "version": 2**70}}),
        (
            "POST",
            "/device/v1/shadow/reported",
            {"content": ('{"reported": ' + nested(3000) + "}").encode(), "headers": JSON},
        ),
    ]
    for bad in INJECT + PATH_TRICKS:
        cases += [
            ("GET", f"/device/v1/jobs/{bad}/execution", {}),
            ("PUT", f"/device/v1/jobs/{bad}/execution", {"json": {"status": "IN_PROGRESS"}}),
        ]
    async with client(apps.device.url, headers=token) as api:
        for method, path, kw in cases:
            await _expect_4xx(api, method, path, kw)
        huge = await api.put(
            put,
            content=b'{"status": "IN_PROGRESS", "status_details": {"x": "' + b"y" * 70000 + b'"}}',
            headers=JSON,
        )
        assert huge.status_code == 413 and huge.json()["error"] == "payload_too_large"
        assert (await api.get("/device/v1/shadow")).status_code == 200
    # Authenticated contact marks the device as seen; nothing else may differ.
    assert await tenant_state(apps.db.owner_url, account.tenant_id, ignore=("last_seen_at",)) == before


@pytest.mark.parametrize("method", ["execute", "executemany", "fetch", "fetchrow", "fetchval"])
def test_sql_text_is_never_built_from_values_at_call_time(method: str) -> None:
    """Every query the services run is a constant (module-level name or literal): values travel as bind
    parameters. A call whose SQL is an f-string, a % format, a .format() or a concatenation fails; psycopg's
    sql.SQL(...).format(sql.Identifier(...)) composition (quoted identifiers, for DDL) is allowed."""
    offenders = []
    for path in SERVICES.rglob("*.py"):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == method
                and node.args
                and isinstance(node.args[0], ast.JoinedStr | ast.BinOp | ast.Call)
                and not (ast.get_source_segment(source, node.args[0]) or "").startswith("sql.SQL(")
            ):
                offenders.append(f"{path.relative_to(SERVICES)}:{node.lineno}")
    assert not offenders, f"SQL built at call time: {offenders}"

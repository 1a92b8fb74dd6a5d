"""The committed frontend/openapi.json (source of the console's generated TS types) matches the code."""

from __future__ import annotations

import json
from pathlib import Path

from ui_iot.openapi import operator_spec, render

SNAPSHOT = Path(__file__).resolve().parents[2] / "frontend" / "openapi.json"


def test_committed_spec_matches_the_operator_api() -> None:
    current = render(operator_spec())
    committed = SNAPSHOT.read_text()
    assert committed == current, (
        "frontend/openapi.json is stale: run `npm run gen:api --prefix frontend` "
        "and commit openapi.json and src/services/api/schema.ts"
    )


def test_spec_covers_the_console_routes() -> None:
    paths = json.loads(SNAPSHOT.read_text())["paths"]
    for path in (
        "/auth/token",
        "/customer/devices",
        "/customer/devices/{device_id}/twin",
        "/customer/groups/{group_id}/members",
        "/customer/jobs",
        "/customer/jobs/{job_id}/executions/{device_id}/events",
        "/customer/devices/{device_id}/jobs",
    ):
        assert path in paths, path
    assert not any(p == "/" or p.startswith("/{") for p in paths)  # console routes stay out of the spec

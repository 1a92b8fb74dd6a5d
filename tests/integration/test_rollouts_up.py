"""Safe rollouts end to end against the real `iotcloud up` (embedded PostgreSQL, its own worker on a short
rollout tick), driven over HTTP as an operator and the demo devices would: a rate-limited rollout reaches
two devices, their failures are retried and then abort the job; a scheduled job starts by itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack, iotcloud_up


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with iotcloud_up(tmp_path_factory.mktemp("rollouthome"), {"IOTCLOUD_ROLLOUT_TICK_SECONDS": "0.2"}) as s:
        yield s


def _until(check: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {check}")


def test_a_rollout_reaches_two_devices_then_aborts_on_their_failures(stack: Stack) -> None:
    token = stack.cli("token", "--email", "admin@demo.local").strip()
    tokens: dict[str, str] = json.loads((stack.home / "demo-tokens.json").read_text())
    assert len(tokens) >= 3
    with httpx.Client(base_url=stack.ui, headers={"Authorization": f"Bearer {token}"}, timeout=30) as ui:
        r = ui.post(
            "/customer/jobs",
            json={
                "job_id": "careful-fw",
                "document_type": "firmware",
                "target_all": True,
                "rollout_config": {"maximum_per_minute": 2},
                "retry_config": {"criteria_list": [{"failure_type": "FAILED", "number_of_retries": 1}]},
                "abort_config": {"criteria_list": [{"failure_type": "FAILED", "threshold_percentage": 50,
                                                    "min_number_of_executed_things": 2}]},
            },
        )  # fmt: skip
        assert r.status_code == 201, r.text

        def seeing() -> list[str]:
            seen = []
            for device_id, tok in tokens.items():
                pending = httpx.get(
                    f"{stack.device}/device/v1/jobs/pending", headers={"X-Provision-Token": tok}, timeout=30
                ).json()["jobs"]
                if any(j["job_id"] == "careful-fw" for j in pending):
                    seen.append(device_id)
            return seen

        reached = _until(lambda: len(seeing()) == 2 and seeing())
        time.sleep(1.0)  # a rate of 2 a minute: nobody else for a minute
        assert sorted(seeing()) == sorted(reached)
        assert ui.get("/customer/jobs/careful-fw").json()["rollout"]["reached"] == 2

        for device_id in reached:  # each fails twice: once retried, then for good
            with httpx.Client(
                base_url=stack.device, headers={"X-Provision-Token": tokens[device_id]}, timeout=30
            ) as dev:
                for attempt in (0, 1):
                    claimed = dev.put("/device/v1/jobs/careful-fw/execution", json={"status": "IN_PROGRESS"})
                    assert claimed.status_code == 200 and claimed.json()["retry_attempt"] == attempt
                    assert (
                        dev.put("/device/v1/jobs/careful-fw/execution", json={"status": "FAILED"}).status_code
                        == 200
                    )

        job = _until(lambda: (j := ui.get("/customer/jobs/careful-fw").json())["status"] == "CANCELED" and j)
        assert job["cancel_reason_code"] == "ABORTED_FAILED"
        assert job["abort"]["failures"] == 2 and job["abort"]["executed"] == 2
        _until(lambda: ui.get("/customer/jobs/careful-fw").json()["counts"]["queued"] == 0)
        counts = ui.get("/customer/jobs/careful-fw").json()["counts"]
        assert counts["failed"] == 2 and counts["canceled"] == len(tokens) - 2
        assert seeing() == []


def test_a_scheduled_job_starts_by_itself(stack: Stack) -> None:
    token = stack.cli("token", "--email", "admin@demo.local").strip()
    start = datetime.now(UTC) + timedelta(seconds=2)
    with httpx.Client(base_url=stack.ui, headers={"Authorization": f"Bearer {token}"}, timeout=30) as ui:
        r = ui.post(
            "/customer/jobs",
            json={"job_id": "later", "document_type": "reboot", "target_all": True,
                  "scheduling_config": {"start_time": start.isoformat()}},
        )  # fmt: skip
        assert r.status_code == 201 and r.json()["status"] == "SCHEDULED", r.text
        job = _until(lambda: (j := ui.get("/customer/jobs/later").json())["status"] == "IN_PROGRESS" and j)
        assert job["rollout"]["reached"] == job["rollout"]["total"] == job["execution_count"]
        assert datetime.now(UTC) >= start

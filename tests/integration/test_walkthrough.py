"""The README's and the contract's walkthroughs against the real `iotcloud up` (embedded PostgreSQL),
driven as a user would: the CLI in a second process, curl-like HTTP calls."""

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.stack import Stack, iotcloud_up


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with iotcloud_up(tmp_path_factory.mktemp("uphome")) as s:
        yield s


def _postgres_of(home: Path) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if str(home) in cmd and "postgres" in (p.info["name"] or ""):
            found.append(p)
    return found


def test_contract_walkthrough(stack: Stack) -> None:
    # Step 1: the migration is applied (psql as the owner, while `up` runs)
    tables = stack.cli(
        "psql",
        "-tAc",
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_name IN ('jobs','job_executions') ORDER BY table_name;",
    )
    assert tables.split() == ["job_executions", "jobs"]
    described = stack.cli("psql", "-c", r"\d jobs")
    assert "job_id" in described and "status" in described and "expires_at" in described
    assert "execution_number" in stack.cli("psql", "-c", r"\d job_executions")
    assert "nothing to apply" in stack.cli("migrate")

    token = stack.cli("token", "--email", "admin@demo.local").strip()
    auth = {"Authorization": f"Bearer {token}"}
    device_id = stack.cli("psql", "-tAc", "SELECT device_id FROM device_state LIMIT 1;").strip()
    tokens = json.loads((stack.home / "demo-tokens.json").read_text())
    dev = {"X-Provision-Token": tokens[device_id]}
    with (
        httpx.Client(base_url=stack.ui, headers=auth, timeout=30) as ui,
        httpx.Client(base_url=stack.device, headers=dev, timeout=30) as device,
    ):
        # Step 2
        r = ui.post(
            "/customer/jobs",
            json={
                "document_type": "reboot",
                "document_params": {"delay_s": 5},
                "target_device_id": device_id,
                "expires_in_hours": 1,
            },
        )
        job = r.json()
        assert r.status_code == 201 and job["status"] == "IN_PROGRESS" and job["execution_count"] == 1
        job_id = job["job_id"]
        # Step 3
        assert [e["status"] for e in ui.get(f"/customer/jobs/{job_id}").json()["executions"]] == ["QUEUED"]
        # Step 4
        pending = device.get("/device/v1/jobs/pending").json()["jobs"]
        assert pending[0]["job_id"] == job_id and pending[0]["document"] == {
            "type": "reboot",
            "params": {"delay_s": 5},
        }
        # Step 5
        assert (
            device.put(f"/device/v1/jobs/{job_id}/execution", json={"status": "IN_PROGRESS"}).json()["status"]
            == "IN_PROGRESS"
        )
        assert ui.get(f"/customer/jobs/{job_id}").json()["executions"][0]["status"] == "IN_PROGRESS"
        # Step 6
        r = device.put(
            f"/device/v1/jobs/{job_id}/execution",
            json={"status": "SUCCEEDED", "status_details": {"message": "reboot scheduled"}},
        )
        assert r.json()["status"] == "SUCCEEDED"
        assert ui.get(f"/customer/jobs/{job_id}").json()["status"] == "COMPLETED"
        # Step 7
        group_id = stack.cli("psql", "-tAc", "SELECT group_id FROM device_groups LIMIT 1;").strip()
        members = int(
            stack.cli(
                "psql", "-tAc", f"SELECT count(*) FROM device_group_members WHERE group_id = '{group_id}';"
            )
        )
        r = ui.post(
            "/customer/jobs",
            json={
                "document_type": "update_config",
                "document_params": {"log_level": "debug"},
                "target_group_id": group_id,
            },
        )
        assert r.json()["execution_count"] == members > 0
        # Step 8: backdate expires_at, wait for the worker tick
        job2 = ui.post(
            "/customer/jobs",
            json={
                "document_type": "test_expiry",
                "document_params": {},
                "target_device_id": device_id,
                "expires_in_hours": 24,
            },
        ).json()["job_id"]
        stack.cli(
            "psql", "-c", f"UPDATE jobs SET expires_at = NOW() - INTERVAL '1 minute' WHERE job_id = '{job2}';"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            d = ui.get(f"/customer/jobs/{job2}").json()
            if d["status"] == "COMPLETED":
                break
            time.sleep(0.3)
        assert (d["status"], d["executions"][0]["status"]) == ("COMPLETED", "TIMED_OUT")
        # Step 9
        job3 = ui.post(
            "/customer/jobs",
            json={"document_type": "reboot", "document_params": {}, "target_device_id": device_id},
        ).json()["job_id"]
        r = ui.delete(f"/customer/jobs/{job3}")
        assert r.status_code == 200 and r.json()["job_id"] == job3 and r.json()["status"] == "CANCELED"


def test_readme_walkthrough_and_console(stack: Stack) -> None:
    with httpx.Client(base_url=stack.ui, timeout=30) as ui:
        r = ui.post("/auth/token", data={"username": "admin@demo.local", "password": "demo-admin"})
        assert r.status_code == 200
        ui.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        created = ui.post("/customer/devices", json={"name": "my first device"}).json()
        ui.patch(f"/customer/devices/{created['device_id']}/twin", json={"desired": {"led": "on"}})
        assert ui.get("/docs").status_code == 200
        assert ui.get("/customer/devices").json()["total"] == 21
    with httpx.Client(base_url=stack.device, timeout=30) as device:
        shadow = device.get(
            "/device/v1/shadow", headers={"X-Provision-Token": created["provision_token"]}
        ).json()
        assert shadow["device_id"] == created["device_id"] and shadow["delta"] == {"led": "on"}


def test_ctrl_c_stops_everything(stack: Stack) -> None:
    assert _postgres_of(stack.home), "embedded PostgreSQL should be running"
    children = psutil.Process(stack.proc.pid).children(recursive=True)
    stack.proc.send_signal(signal.SIGINT)
    assert stack.proc.wait(60) == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (_postgres_of(stack.home) or any(c.is_running() for c in children)):
        time.sleep(0.2)
    assert not _postgres_of(stack.home), "embedded PostgreSQL left running"
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{stack.ui}/health", timeout=2)

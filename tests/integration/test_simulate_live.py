"""The fleet simulator against the live device API: it moves real executions to terminal statuses, the
job's counters agree, and no request got a 5xx. Also `iotcloud simulate --tokens-file` as a process."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from simulator.engine import Fleet, SimConfig
from tests.conftest import Services, Tenant
from tests.support.checkout import checkout_env

FAST = {"poll_interval": 0.1, "jitter": 0.2, "run_seconds": 0.1, "idle_seconds": 1.0, "seed": 11}


async def _job_for_group(tenant: Tenant, group: str) -> str:
    async with tenant.api() as api:
        r = await api.post("/customer/jobs", json={"document_type": "sim-test", "target_group_id": group})
        assert r.status_code == 201, r.text
        job_id: str = r.json()["job_id"]
        return job_id


async def test_simulator_completes_a_group_job(tenant: Tenant, services: Services) -> None:
    devices = await tenant.create_devices(8, prefix="sim")
    await tenant.create_group("simgroup", devices[:6])
    job_id = await _job_for_group(tenant, "simgroup")

    cfg = SimConfig(device_url=services.device.url, progress_steps=1, until_idle=True, **FAST)  # type: ignore[arg-type]
    stats = await asyncio.wait_for(Fleet(tenant.tokens, cfg).run(), 60)

    assert stats.server_errors == 0, stats.summary()
    assert not stats.errors, stats.summary()
    assert sum(stats.finished.values()) == 6
    assert stats.updates["IN_PROGRESS"] == 12  # a claim and one progress update per execution
    assert stats.polls >= 16  # 8 devices polled, and polled again after finishing

    async with tenant.api() as api:
        job = (await api.get(f"/customer/jobs/{job_id}")).json()
    assert job["status"] == "COMPLETED"
    counts = job["counts"]
    assert counts["queued"] == counts["in_progress"] == 0
    for outcome, n in stats.finished.items():
        assert counts[outcome.lower()] == n
    for ex in job["executions"]:
        assert ex["status"] in ("SUCCEEDED", "FAILED", "REJECTED")
        assert ex["execution_number"] == 4  # claimed, one progress update, finished
        assert ex["status_details"]["message"]


async def test_simulate_command_with_a_tokens_file(
    tenant: Tenant, services: Services, tmp_path: Path
) -> None:
    devices = await tenant.create_devices(3, prefix="cli")
    await tenant.create_group("cligroup", devices)
    job_id = await _job_for_group(tenant, "cligroup")
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps(tenant.tokens))
    summary_path = tmp_path / "summary.json"

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "iotcloud.cli", "--home", str(tmp_path / "home"), "simulate",
        "--tokens-file", str(tokens), "--device-url", services.device.url,
        "--poll-interval", "0.1", "--run-seconds", "0.1", "--until-idle", "--idle-seconds", "1",
        "--no-live", "--json", str(summary_path), "--fail-rate", "0", "--reject-rate", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=checkout_env(),
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    summary = json.loads(summary_path.read_text())
    assert summary["finished_by_status"] == {"SUCCEEDED": 3}
    assert summary["server_errors"] == 0
    assert b"simulation summary" in out

    async with tenant.api() as api:
        job = (await api.get(f"/customer/jobs/{job_id}")).json()
    assert job["status"] == "COMPLETED" and job["counts"]["succeeded"] == 3


async def test_simulate_exits_nonzero_on_bad_tokens_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "iotcloud.cli", "--home", str(tmp_path / "home"), "simulate",
        "--tokens-file", str(bad), "--no-live",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=checkout_env(),
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert b"device_id -> provision token" in out


async def test_simulator_creates_its_own_devices_once(services: Services, tmp_path: Path) -> None:
    import httpx

    from simulator.fleet import ensure_sim_devices, tokens_path

    db = services.db
    first = await ensure_sim_devices(db.owner_url, db.app_url, tmp_path, "simfleet-a", 5)
    assert sorted(first) == [f"sim-00000{i}" for i in range(1, 6)]
    again = await ensure_sim_devices(db.owner_url, db.app_url, tmp_path, "simfleet-a", 7)
    assert {d: again[d] for d in first} == first  # known tokens are kept
    assert len(again) == 7
    assert tokens_path(tmp_path, "simfleet-a").exists()
    async with httpx.AsyncClient(base_url=services.device.url) as client:
        for token in again.values():
            r = await client.get("/device/v1/jobs/pending", headers={"X-Provision-Token": token})
            assert r.status_code == 200, r.text
    # a lost tokens file re-keys the devices instead of failing
    tokens_path(tmp_path, "simfleet-a").unlink()
    rekeyed = await ensure_sim_devices(db.owner_url, db.app_url, tmp_path, "simfleet-a", 2)
    assert set(rekeyed) == {"sim-000001", "sim-000002"} and rekeyed["sim-000001"] != first["sim-000001"]

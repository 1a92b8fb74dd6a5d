"""What the console's tour shows (the accessibility, keyboard and docs-screenshot tests): on a stack of its
own, made through the real APIs as an operator and the devices would, so that every page has content and
the job pages show executions in most states."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.stack import Stack

JOB = "fw-rollout-24"  # to the lab group: executions in many states
CANCELED_JOB = "config-push"  # to the field group, canceled
DONE_JOB = "reboot-09"  # to demo-device-09, which succeeds: COMPLETED
SCHEDULED_JOB = "night-update"  # starts tomorrow: SCHEDULED
CONTINUOUS_JOB = "field-watch"  # continuous, to the field group; demo-device-20 leaves it: REMOVED
TEMPLATE = "firmware-update"
ARTIFACT = "sensor-fw-2.4.0.bin"
DEVICE = "demo-device-01"
GROUP = "lab"
# the lab group's devices (demo-device-01..08) and where each takes its execution of JOB
DEVICE_STATES = {
    "demo-device-01": "IN_PROGRESS",
    "demo-device-02": "SUCCEEDED",
    "demo-device-03": "SUCCEEDED",
    "demo-device-04": "FAILED",
    "demo-device-05": "REJECTED",
}


async def plant_tour(stack: Stack) -> None:
    token = stack.cli("token", "--email", "admin@demo.local").strip()
    tokens: dict[str, str] = json.loads((stack.home / "demo-tokens.json").read_text())
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=stack.ui, headers=auth, timeout=30) as api:
        firmware = b"\x7fFW" + bytes(range(256)) * 64
        r = await api.post("/customer/artifacts", params={"name": ARTIFACT}, content=firmware)
        assert r.status_code == 201, r.text
        r = await api.post(
            "/customer/job-templates",
            json={
                "template_id": TEMPLATE,
                "description": "Firmware update to a given version",
                "document_type": "firmware_update",
                "document": {"url": "https://fw.example/${aws:iot:parameter:version}/image.bin"},
            },
        )
        assert r.status_code == 201, r.text
        job = {"job_id": JOB, "template_id": TEMPLATE, "target_group_id": GROUP}
        r = await api.post("/customer/jobs", json={**job, "document_parameters": {"version": "2.4.0"}})
        assert r.status_code == 201, r.text
        r = await api.post(
            "/customer/jobs",
            json={"job_id": CANCELED_JOB, "document_type": "update_config", "target_group_id": "field"},
        )
        assert r.status_code == 201, r.text
        r = await api.post(f"/customer/jobs/{CANCELED_JOB}/cancel", json={"comment": "wrong config"})
        assert r.status_code == 200, r.text
        r = await api.post(f"/customer/jobs/{JOB}/executions/demo-device-06/cancel", json={})
        assert r.status_code == 200, r.text
        r = await api.post(
            "/customer/jobs",
            json={"job_id": DONE_JOB, "document_type": "reboot", "target_device_id": "demo-device-09"},
        )
        assert r.status_code == 201, r.text
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        r = await api.post(
            "/customer/jobs",
            json={
                "job_id": SCHEDULED_JOB,
                "document_type": "firmware_update",
                "target_group_id": "field",
                "scheduling_config": {"start_time": tomorrow},
            },
        )
        assert r.status_code == 201, r.text
        r = await api.post(
            "/customer/jobs",
            json={
                "job_id": CONTINUOUS_JOB,
                "document_type": "update_config",
                "target_group_id": "field",
                "target_selection": "CONTINUOUS",
            },
        )
        assert r.status_code == 201, r.text
        r = await api.delete("/customer/groups/field/members/demo-device-20")
        assert r.status_code == 204, r.text
        r = await api.post("/customer/access-keys")
        assert r.status_code == 201, r.text

    for device_id, status in [*DEVICE_STATES.items(), ("demo-device-09", "SUCCEEDED")]:
        headers = {"X-Provision-Token": tokens[device_id]}
        async with httpx.AsyncClient(base_url=stack.device, headers=headers, timeout=30) as device:
            job_id = JOB if device_id in DEVICE_STATES else DONE_JOB
            if status != "REJECTED":
                r = await device.put(f"/device/v1/jobs/{job_id}/execution", json={"status": "IN_PROGRESS"})
                assert r.status_code == 200, r.text
            if status != "IN_PROGRESS":
                details = {"message": "checksum mismatch"} if status == "FAILED" else None
                body = {"status": status, "status_details": details}
                r = await device.put(f"/device/v1/jobs/{job_id}/execution", json=body)
                assert r.status_code == 200, r.text

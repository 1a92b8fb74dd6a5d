"""The MQTT gateway as `iotcloud up` starts it (embedded PostgreSQL, a free --mqtt-port): a demo device,
created before it ever spoke MQTT, connects with the official SDK using the endpoint the API returns, runs a
job over MQTT 5 and hears notify-next for the next one; and a taken MQTT port stops `iotcloud up` with a
message that says which port and what to do."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.support.aws_device import AwsDevice
from tests.support.stack import BIN, Stack, iotcloud_up


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with iotcloud_up(tmp_path_factory.mktemp("mqtthome")) as s:
        yield s


async def test_a_demo_device_runs_a_job_over_mqtt(stack: Stack) -> None:
    token = stack.cli("token", "--email", "admin@demo.local").strip()
    tokens: dict[str, str] = json.loads((stack.home / "demo-tokens.json").read_text())
    dev = "demo-device-03"
    async with httpx.AsyncClient(base_url=stack.ui, headers={"Authorization": f"Bearer {token}"}) as ui:
        r = await ui.get(f"/customer/devices/{dev}")
        assert r.status_code == 200, r.text
        mqtt = r.json()["mqtt"]
        assert mqtt == {"host": "127.0.0.1", "port": stack.mqtt_port, "thing_name": f"demo:{dev}"}
        r = await ui.post("/customer/jobs", json={"document_type": "fw", "target_device_id": dev,
                                                  "document_params": {"version": "2.0"}})  # fmt: skip
        assert r.status_code == 201, r.text
        job = r.json()["job_id"]
        d = AwsDevice(mqtt["host"], mqtt["port"], mqtt["thing_name"], tokens[dev])  # metrics suffix on
        await d.connect()
        try:
            await d.watch()
            started = await d.call(d.start_next())
            assert started.execution.job_id == job and started.execution.job_document == {"version": "2.0"}
            done = await d.call(d.update(job, "SUCCEEDED", expected_version=started.execution.version_number,
                                         include_job_execution_state=True))  # fmt: skip
            assert done.execution_state.status == "SUCCEEDED"
            assert (await d.next_event(1, timeout=3)).execution is None
            r = await ui.post("/customer/jobs", json={"document_type": "fw", "target_device_id": dev})
            nxt = r.json()["job_id"]
            # the job's commit notifies the gateway (LISTEN iotcloud_jobs): notify-next within a second
            assert (await d.next_event(2, timeout=1.5)).execution.job_id == nxt
        finally:
            await d.close()
        r = await ui.get(f"/customer/jobs/{job}")
        assert r.json()["status"] == "COMPLETED"


def test_a_taken_mqtt_port_is_named(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [str(BIN / "iotcloud"), "--home", str(tmp_path_factory.mktemp("taken")), "up", "--mqtt-port", str(port)],
            env=stack.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert out.returncode == 2, out
    text = " ".join((out.stdout + out.stderr).split())
    assert f"MQTT port 127.0.0.1:{port} is not available" in text and "--mqtt-port" in text, text


def test_a_taken_default_mqtt_port_moves_to_the_next_free_one(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """`make run` on a machine whose own broker holds 1883: iotcloud says so and listens on the next free
    port, which the device API then gives devices."""
    holder = socket.socket()
    try:
        try:
            holder.bind(("127.0.0.1", 1883))
            holder.listen()
        except OSError:
            pass  # a broker of this machine holds it already
        home = tmp_path_factory.mktemp("defaultmqtt")
        with iotcloud_up(home, default_mqtt_port=True) as s:
            log = " ".join((home / "up.log").read_text().split())
            assert "MQTT port 127.0.0.1:1883 is taken" in log, log
            token = s.cli("token", "--email", "admin@demo.local").strip()
            r = httpx.get(
                f"{s.ui}/customer/devices/demo-device-01", headers={"Authorization": f"Bearer {token}"}
            )
            port = r.json()["mqtt"]["port"]
            assert port != 1883 and f"listens on {port} instead" in log
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
    finally:
        holder.close()

"""The real `iotcloud up --demo` as a subprocess on a given home (embedded PostgreSQL), for tests that
drive the whole system as a user would: the walkthrough and the browser tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.checkout import checkout_env
from tests.support.servers import free_port

BIN = Path(sys.executable).parent


@dataclass
class Stack:
    home: Path
    ui: str
    device: str
    metrics: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    mqtt_port: int = 0
    aws: str = ""  # the AWS-compatible API's URL (docs/aws-compat.md)

    def cli(self, *args: str) -> str:
        """Runs another `iotcloud` command on the same home, as a second terminal would."""
        out = subprocess.run(
            [str(BIN / "iotcloud"), "--home", str(self.home), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, (args, out.stdout, out.stderr)
        return out.stdout


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "iotcloud up exited early"
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready")


@contextmanager
def iotcloud_up(
    home: Path, extra_env: Mapping[str, str] | None = None, *, default_mqtt_port: bool = False
) -> Iterator[Stack]:
    """`iotcloud up --demo` with a 1 s expiry tick on free ports (the MQTT gateway's too); stopped with SIGINT (must exit 0)."""
    env = checkout_env(
        {k: v for k, v in os.environ.items() if not k.startswith(("IOTCLOUD_", "DATABASE_URL"))}
    )
    env.update(extra_env or {})
    ui_port, dev_port, metrics_port, mqtt_port = free_port(), free_port(), free_port(), free_port()
    aws_port = free_port()
    cmd = [str(BIN / "iotcloud"), "--home", str(home), "up", "--ui-port", str(ui_port)]
    cmd += ["--device-port", str(dev_port), "--metrics-port", str(metrics_port), "--aws-port", str(aws_port)]
    if default_mqtt_port:  # as `make run` does: the default port, or the next free one if it is taken
        mqtt_port = 0
    else:
        cmd += ["--mqtt-port", str(mqtt_port)]
    cmd += ["--jobs-tick-seconds", "1", "--demo"]
    with (home / "up.log").open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        urls = [f"http://127.0.0.1:{p}" for p in (ui_port, dev_port, metrics_port)]
        stack = Stack(
            home, *urls, proc=proc, env=env, mqtt_port=mqtt_port, aws=f"http://127.0.0.1:{aws_port}"
        )
        try:
            wait_ready(stack.ui, proc)
            wait_ready(stack.device, proc)
            yield stack
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    raise
            assert proc.returncode == 0, f"iotcloud up exited with {proc.returncode} (log: {home / 'up.log'})"

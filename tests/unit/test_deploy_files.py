"""deploy/ stays true to the code: every systemd unit runs an existing `iotcloud` command, and every setting
in the example environment file is one the services read (a typo there would be silently ignored)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from iotcloud.cli import app
from shared.infra.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_every_unit_runs_a_real_command() -> None:
    runner = CliRunner()
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {
        "iotcloud-ui.service",
        "iotcloud-device.service",
        "iotcloud-worker.service",
        "iotcloud-aws.service",
    }
    for unit in units:
        [command] = re.findall(r"^ExecStart=\S+/iotcloud (.+)$", unit.read_text(), re.M)
        args = command.split()
        result = runner.invoke(app, [args[0], "--help"])
        assert result.exit_code == 0, (unit.name, result.output)
        if args[0] == "serve":
            assert args[1] in ("ui", "device", "worker", "aws"), unit.name


def test_every_example_setting_is_read_by_the_services() -> None:
    known = {f"IOTCLOUD_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    names = re.findall(r"^([A-Z_]+)=", (DEPLOY / "iotcloud.env.example").read_text(), re.M)
    assert names and set(names) <= known, set(names) - known

"""The AWS-compatible API as `iotcloud up` starts it (embedded PostgreSQL, a free --aws-port): the README's
boto3 snippet, run as written in its own process, takes a demo device's job through the HTTPS data plane; an
access key from `iotcloud create-access-key` on the same home signs requests that the server verifies."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.stack import Stack, iotcloud_up

ROOT = Path(__file__).resolve().parents[2]


def _snippet(doc: Path, heading: str) -> str:
    """The first python block after `heading` in `doc`."""
    text = doc.read_text()
    start = text.index(heading)
    match = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert match is not None, (doc, heading)
    return match.group(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with iotcloud_up(tmp_path_factory.mktemp("awshome")) as s:
        yield s


def test_the_readme_boto3_device_runs_its_job(stack: Stack) -> None:
    code = _snippet(ROOT / "README.md", "## A device over HTTPS with boto3")
    assert code == _snippet(ROOT / "docs" / "aws-compat.md", "### Devices: thing name and token hash")
    token = stack.cli("token", "--email", "admin@demo.local").strip()
    with httpx.Client(base_url=stack.ui, headers={"Authorization": f"Bearer {token}"}, timeout=30) as ui:
        _run_snippet(stack, ui, code)


def _run_snippet(stack: Stack, ui: httpx.Client, code: str) -> None:
    r = ui.post("/customer/jobs", json={"document_type": "fw", "target_device_id": "demo-device-01",
                                        "document_params": {"version": "3.1"}})  # fmt: skip
    assert r.status_code == 201, r.text
    job = r.json()["job_id"]
    env = {**stack.env, "IOTCLOUD_HOME": str(stack.home), "IOTCLOUD_AWS_PORT": str(urlsplit(stack.aws).port)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=stack.home, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"running {job} {{'version': '3.1'}}"], out.stdout
    assert ui.get(f"/customer/jobs/{job}").json()["status"] == "COMPLETED"


def test_a_cli_access_key_is_verified(stack: Stack) -> None:
    out = stack.cli("create-access-key", "--tenant", "demo", "--email", "admin@demo.local")
    key = dict(line.split(" = ") for line in out.splitlines())
    for secret, code in (
        (key["aws_secret_access_key"], "ForbiddenException"),
        ("x" * 40, "InvalidSignatureException"),
    ):
        c = boto3.client(
            "iot-jobs-data", endpoint_url=stack.aws, region_name="us-east-1",
            aws_access_key_id=key["aws_access_key_id"], aws_secret_access_key=secret,
        )  # fmt: skip
        with pytest.raises(ClientError) as err:
            c.get_pending_job_executions(thingName="demo:demo-device-02")
        assert err.value.response["Error"]["Code"] == code
    token = stack.cli("token", "--email", "admin@demo.local").strip()
    r = httpx.get(f"{stack.ui}/customer/access-keys", headers={"Authorization": f"Bearer {token}"})
    assert [k["access_key_id"] for k in r.json()["access_keys"]] == [key["aws_access_key_id"]]

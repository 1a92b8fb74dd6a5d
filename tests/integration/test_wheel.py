"""The wheel (`make wheel`): built from this checkout, installed into a fresh virtualenv in a temporary
directory outside the checkout, then `iotcloud up --demo` run from there serves the API and the console from
the installed package alone: migrations, SQL functions and the built console are package data.

Offline: the wheel is installed with --no-deps and --no-index; its dependencies come from this checkout's
virtualenv, whose site-packages is added to the new one by a .pth line (a directory on sys.path, after the
new environment's own, and without running that directory's .pth files: this checkout's editable install of
iotcloud stays out). Building the wheel itself fetches setuptools (the build-system of pyproject.toml) like
any pip build."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx
import pytest

from tests.support.checkout import ROOT
from tests.support.servers import free_port
from tests.support.stack import wait_ready

pytestmark = pytest.mark.slow


def build_wheel() -> Path:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        if shutil.which("npm") is None:
            pytest.skip("no frontend/dist and no npm to build it: run `make frontend` first")
        if (ROOT / "frontend" / "node_modules").exists():
            build = ["npm", "run", "build", "--prefix", "frontend"]
        else:  # a fresh clone: install the console's locked dependencies, then build
            build = ["make", "frontend"]
        subprocess.run(build, cwd=ROOT, check=True, timeout=900)
    before = set((ROOT / "dist").glob("iotcloud-*.whl"))
    subprocess.run(["make", "wheel-package"], cwd=ROOT, check=True, timeout=600, capture_output=True)
    wheels = sorted((ROOT / "dist").glob("iotcloud-*.whl"), key=lambda p: p.stat().st_mtime)
    assert wheels, f"make wheel-package wrote no wheel (had {before})"
    assert not (ROOT / "services" / "iotcloud" / "assets").exists(), "the build left its copy of the assets"
    return wheels[-1]


def fresh_venv(where: Path, wheel: Path) -> Path:
    venv = where / "venv"
    env = outside_env()  # nothing of this checkout on the path: pip would take its iotcloud as installed
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], env=env, check=True, timeout=300)  # type: ignore[attr-defined]
    py = venv / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        env=env,
        check=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = Path(sysconfig.get_paths()["purelib"]).resolve()  # this checkout's virtualenv
    (Path(site) / "iotcloud-deps.pth").write_text(f"{deps}\n")
    return venv


def outside_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IOTCLOUD_", "DATABASE_URL", "PYTHONPATH", "VIRTUAL_ENV"))
    }


def test_wheel_installed_outside_the_checkout_serves_api_and_console(tmp_path: Path) -> None:
    wheel = build_wheel()
    names = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", str(wheel)], check=True, capture_output=True, text=True
    ).stdout
    for member in (
        "iotcloud/assets/console/index.html",
        "iotcloud/assets/db/migrations/001_core.sql",
        "iotcloud/assets/db/functions/020_moves.sql",
    ):
        assert member in names, member
    work = tmp_path / "elsewhere"
    work.mkdir()
    venv = fresh_venv(work, wheel)
    env = outside_env()
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import shared.infra.migrations as m, ui_iot.app as a; print(m.MIGRATIONS_DIR); print(a.DEFAULT_STATIC)",
        ],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    site = str(venv.resolve())
    assert all(p.startswith(site) for p in where), where  # the installed package's files, not the checkout's

    ui_port, dev_port = free_port(), free_port()
    cmd = [str(venv / "bin" / "iotcloud"), "--home", str(work / "home"), "up", "--demo"]
    cmd += ["--ui-port", str(ui_port), "--device-port", str(dev_port), "--aws-port", str(free_port())]
    with (work / "up.log").open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            ui, device = f"http://127.0.0.1:{ui_port}", f"http://127.0.0.1:{dev_port}"
            wait_ready(ui, proc)
            wait_ready(device, proc)
            index = httpx.get(f"{ui}/", timeout=10)
            assert index.status_code == 200 and '<div id="root">' in index.text, index.text[:300]
            script = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
            assert script is not None
            asset = httpx.get(f"{ui}{script.group(1)}", timeout=10)
            assert asset.status_code == 200 and len(asset.content) > 1000
            token = httpx.post(
                f"{ui}/auth/token",
                data={"username": "admin@demo.local", "password": "demo-admin"},
                timeout=30,
            )
            assert token.status_code == 200, token.text
            devices = httpx.get(
                f"{ui}/customer/devices",
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                timeout=10,
            )
            assert devices.status_code == 200, devices.text
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    raise
    assert proc.returncode == 0, (work / "up.log").read_text()[-3000:]

"""`make fuzz`: schemathesis against both APIs, every check and phase, at least 100 examples per operation.

    python -m tests.fuzz                      # starts `iotcloud up --demo` on a temporary home, then fuzzes
    python -m tests.fuzz --examples 20        # quicker
    python -m tests.fuzz --home .iotcloud     # against the system `make run` started (ports 8000 / 8080)

The operator API is fuzzed with a bearer token of the demo admin (`iotcloud token`), the device API with the
provision token of a demo device (the home's demo-tokens.json) that has a job to work on. Exit status 0
when schemathesis reports no finding for either API. Configuration: tests/fuzz/schemathesis.toml.

Against a running system (--home), the fuzzer writes into its demo tenant (devices, groups, jobs), and the
device API's failure limiter answers 429 once bad tokens pile up (documented, so not a finding, but fewer
requests get through): start it with IOTCLOUD_DEVICE_AUTH_FAILURES_PER_MINUTE=1000000000 for a full run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.stack import BIN, iotcloud_up

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
REPORTS = ROOT / "test-artifacts" / "fuzz"
DEMO_EMAIL = "admin@demo.local"
FUZZ_DEVICE = "demo-device-20"
FUZZ_JOB = "fuzz-job"


@dataclass
class Target:
    name: str
    url: str
    headers: dict[str, str]


@dataclass
class Outcome:
    name: str
    returncode: int
    operations: int
    cases: int
    seconds: float


def _env() -> dict[str, str]:
    # Run this checkout's services even when the virtualenv's editable install points at another one.
    path = [str(ROOT / "services"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    # A fuzzer presents bad provision tokens all the time: no 429 for it (the limiter has its own tests).
    return {"PYTHONPATH": os.pathsep.join(path), "IOTCLOUD_DEVICE_AUTH_FAILURES_PER_MINUTE": "1000000000"}


@contextmanager
def system(home: Path | None, ui: str, device: str) -> Iterator[tuple[Path, str, str]]:
    if home is not None:  # already running
        yield home, ui, device
        return
    # Not under a 0700 temp root: as root, the embedded PostgreSQL runs as another user.
    tmp = Path(tempfile.mkdtemp(prefix="iotcloud-fuzz-"))
    tmp.chmod(0o755)
    try:
        with iotcloud_up(tmp, extra_env=_env()) as stack:
            yield tmp, stack.ui, stack.device
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def credentials(home: Path, ui: str) -> tuple[str, str]:
    """The demo admin's bearer token, and the fuzzed device's provision token, with a job queued for it."""
    cmd = [str(BIN / "iotcloud"), "--home", str(home), "token", "--email", DEMO_EMAIL]
    env = {**os.environ, **_env()}
    bearer = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.strip()
    device_token = json.loads((home / "demo-tokens.json").read_text())[FUZZ_DEVICE]
    job = {"job_id": FUZZ_JOB, "document_type": "fuzz", "target_device_id": FUZZ_DEVICE}
    r = httpx.post(f"{ui}/customer/jobs", json=job, headers={"Authorization": f"Bearer {bearer}"}, timeout=30)
    assert r.status_code in (201, 409), r.text  # 409: made by an earlier run on the same home
    return bearer, device_token


def fuzz(target: Target, examples: int, workers: int, seed: int) -> Outcome:
    report = REPORTS / f"{target.name}.ndjson"
    report.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(BIN / "st"), "--config-file", str(CONFIG), "run", f"{target.url}/openapi.json"]
    # The config enables every check; `--checks all` here would override its per-operation exceptions.
    cmd += ["--max-examples", str(examples), "--workers", str(workers), "--seed", str(seed)]
    cmd += ["--report", "ndjson", "--report-ndjson-path", str(report)]
    for name, value in target.headers.items():
        cmd += ["--header", f"{name}: {value}"]
    print(f"\n=== {target.name} API: {target.url} ===", flush=True)
    started = time.monotonic()
    # Hypothesis keeps its files under test-artifacts/ too, not in the checkout.
    env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(REPORTS / "hypothesis")}
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    operations, cases = _count(report)
    return Outcome(target.name, code, operations, cases, time.monotonic() - started)


def _count(report: Path) -> tuple[int, int]:
    """Operations tested and test cases run, from schemathesis' event stream."""
    operations = cases = 0
    for line in report.read_text().splitlines():
        for name, data in json.loads(line).items():
            if name == "LoadingFinished":
                operations = data["statistic"]["operations"]["selected"]
            elif name == "ScenarioFinished":
                cases += len(data["recorder"].get("cases", ()))
    return operations, cases


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation (100)")
    # One worker: with two, Hypothesis' lambda-source cache raced and schemathesis reported a runtime error.
    parser.add_argument("--workers", type=int, default=1, help="schemathesis workers (1)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same cases (1)")
    parser.add_argument("--home", type=Path, help="fuzz the system already running on this home")
    parser.add_argument("--ui", default="http://127.0.0.1:8000", help="its operator API (with --home)")
    parser.add_argument("--device", default="http://127.0.0.1:8080", help="its device API (with --home)")
    parser.add_argument("--only", choices=("operator", "device"), help="fuzz one API")
    args = parser.parse_args(argv)
    outcomes = []
    with system(args.home, args.ui, args.device) as (home, ui, device):
        bearer, device_token = credentials(home, ui)
        targets = [
            # The device API first: the operator API's fuzzing could revoke the device it uses.
            Target("device", device, {"X-Provision-Token": device_token}),
            Target("operator", ui, {"Authorization": f"Bearer {bearer}"}),
        ]
        for target in targets:
            if args.only in (None, target.name):
                outcomes.append(fuzz(target, args.examples, args.workers, args.seed))
    print("\nAPI        operations  test cases  seconds  result")
    for o in outcomes:
        verdict = "no findings" if o.returncode == 0 else f"FINDINGS (exit {o.returncode})"
        print(f"{o.name:<10} {o.operations:>10}  {o.cases:>10}  {o.seconds:>7.0f}  {verdict}")
    return 0 if all(o.returncode == 0 for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

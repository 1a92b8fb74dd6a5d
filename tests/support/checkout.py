"""Subprocesses run this checkout's code. The virtualenv may be shared between checkouts (git worktrees),
and its editable install then points at another one's services/: without this, `iotcloud` processes
started by a test would run that code (and apply its migrations), not the code under test."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"


def checkout_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with this checkout's services/ first on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join([str(SERVICES), *filter(None, [env.get("PYTHONPATH")])])
    return env

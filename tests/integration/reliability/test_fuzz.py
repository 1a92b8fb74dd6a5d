"""Both APIs fuzzed from their own OpenAPI specs with schemathesis, authenticated (Bearer on the operator
API, X-Provision-Token on the device API), with valid and with invalid data: no 5xx, and every answer
conforms to the schema it documents."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from shared.web.validation import NO_NUL
from tests.integration.reliability.accounts import Account, create_devices
from tests.integration.reliability.conftest import Apps
from tests.integration.reliability.tally import TALLY

EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


# The console's event stream stays open until the session ends: no answer ends for a check to read (as in
# tests/fuzz/schemathesis.toml). Its statuses and events are tested in tests/integration/test_console_events.py.
ENDLESS = {"GET /customer/events"}

# Schema keywords that describe a parameter without constraining it.
UNCONSTRAINING = {"type", "title", "description"}


@dataclass
class FuzzRun:
    cases: Counter[str] = field(default_factory=Counter)  # "METHOD /path [mode]" -> cases sent
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)
    nothing_to_invalidate: set[str] = field(default_factory=set)  # operations whose negative mode is empty

    @property
    def total(self) -> int:
        return sum(self.cases.values())


def _takes_any_segment(schema: dict[str, Any]) -> bool:
    """A path parameter schema no URL path segment can break: any string, or any string without NUL (the
    specs' NO_NUL pattern: schemathesis does not put a NUL into a path segment)."""
    rest = {k: v for k, v in schema.items() if not (k == "pattern" and v == NO_NUL)}
    return set(rest) <= UNCONSTRAINING


def has_nothing_to_invalidate(op: Any) -> bool:
    """No query parameters, no body, and path parameters that take any segment: negative generation has
    nothing to make invalid, and hypothesis says so with Unsatisfiable."""
    if len(list(op.query)) or len(list(op.body)):
        return False
    return all(_takes_any_segment(p.definition.get("schema", {})) for p in op.path_parameters)


def fuzz(base_url: str, headers: dict[str, str], examples: int = EXAMPLES) -> FuzzRun:
    """Runs in a worker thread: the servers under test live in the test session's event loop."""
    out = FuzzRun()
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for result in schema.get_all_operations():
        op = result.ok()
        if op.label in ENDLESS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_one(op, mode, base_url, headers, examples, out)
    return out


def fuzz_one(
    op: Any, mode: GenerationMode, base_url: str, headers: dict[str, str], examples: int, out: FuzzRun
) -> None:
    """One operation in one mode; its cases are counted under its own key."""
    key = f"{op.label} [{mode.value}]"
    out.cases[key] += 0  # an operation that sends nothing is listed with 0

    @given(case=op.as_strategy(generation_mode=mode, headers=headers))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        # a valid `?wait=N` long-polls N seconds on a device with nothing pending: kept to 1 s (as
        # tests/fuzz/hooks.py does), so a case answers well within the client's timeout
        wait = case.query.get("wait") if isinstance(case.query, dict) else None
        if isinstance(wait, int | str) and str(wait).isdigit() and 1 < int(wait) <= 60:
            case.query["wait"] = 1
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        out.cases[key] += 1
        if response.status_code >= 500:
            out.server_errors += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Unsatisfiable:
        if mode == GenerationMode.NEGATIVE and has_nothing_to_invalidate(op):
            out.nothing_to_invalidate.add(op.label)
        else:
            out.failures.append(f"{key}: no case could be generated (Unsatisfiable)")
    except (Exception, BaseExceptionGroup) as exc:  # a failing case: keep fuzzing the others, report all
        out.failures.append(f"{key}: {str(exc)[:1500]}")


def unfuzzed(run: FuzzRun) -> list[str]:
    """Operation-modes that sent no case, except a negative mode with nothing to make invalid."""
    return sorted(
        key
        for key, n in run.cases.items()
        if n == 0
        and not (key.endswith(" [negative]") and key.removesuffix(" [negative]") in run.nothing_to_invalidate)
    )


async def _fuzz(base_url: str, headers: dict[str, str]) -> FuzzRun:
    run = await asyncio.to_thread(fuzz, base_url, headers)
    TALLY.fuzz_cases += run.total
    TALLY.requests += run.total
    TALLY.server_errors += run.server_errors
    assert not run.failures, f"{len(run.failures)} operations failed:\n\n" + "\n\n".join(run.failures)
    assert not unfuzzed(run), f"operations that sent no case: {unfuzzed(run)}"
    return run


async def test_fuzz_operator_api(apps: Apps, account: Account) -> None:
    await create_devices(account, apps.ui.url, 3, prefix="fz")
    run = await _fuzz(apps.ui.url, account.auth)
    print(f"\noperator API: {run.total} fuzz cases over {len(run.cases)} operation-modes")


async def test_fuzz_device_api(apps: Apps, account: Account) -> None:
    [device] = await create_devices(account, apps.ui.url, 1, prefix="fzd")
    run = await _fuzz(apps.device.url, {"X-Provision-Token": account.tokens[device]})
    print(f"\ndevice API: {run.total} fuzz cases over {len(run.cases)} operation-modes")

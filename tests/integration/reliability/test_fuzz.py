"""Both APIs fuzzed from their own OpenAPI specs with schemathesis, authenticated (Bearer on the operator
API, X-Provision-Token on the device API), with valid and with invalid data: no 5xx, and every answer
conforms to the schema it documents."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.integration.reliability.accounts import Account, create_devices
from tests.integration.reliability.conftest import Apps
from tests.integration.reliability.tally import TALLY

EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@dataclass
class FuzzRun:
    cases: int = 0
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(base_url: str, headers: dict[str, str], examples: int = EXAMPLES) -> FuzzRun:
    """Runs in a worker thread: the servers under test live in the test session's event loop."""
    out = FuzzRun()
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for result in schema.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

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
                response = case.call(base_url=base_url, headers=headers, timeout=30)
                out.cases += 1
                if response.status_code >= 500:
                    out.server_errors += 1
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, or any string is a valid id)
                continue
            except (
                Exception,
                BaseExceptionGroup,
            ) as exc:  # a failing case: keep fuzzing the other operations, report all
                out.failures.append(f"{op.label} [{mode.value}]: {str(exc)[:1500]}")
    return out


async def _fuzz(base_url: str, headers: dict[str, str]) -> FuzzRun:
    run = await asyncio.to_thread(fuzz, base_url, headers)
    TALLY.fuzz_cases += run.cases
    TALLY.requests += run.cases
    TALLY.server_errors += run.server_errors
    assert run.cases > 0
    assert not run.failures, f"{len(run.failures)} operations failed:\n\n" + "\n\n".join(run.failures)
    return run


async def test_fuzz_operator_api(apps: Apps, account: Account) -> None:
    await create_devices(account, apps.ui.url, 3, prefix="fz")
    run = await _fuzz(apps.ui.url, account.auth)
    print(f"\noperator API: {run.cases} fuzz cases")


async def test_fuzz_device_api(apps: Apps, account: Account) -> None:
    [device] = await create_devices(account, apps.ui.url, 1, prefix="fzd")
    run = await _fuzz(apps.device.url, {"X-Provision-Token": account.tokens[device]})
    print(f"\ndevice API: {run.cases} fuzz cases")

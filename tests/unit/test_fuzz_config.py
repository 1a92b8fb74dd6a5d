"""`make fuzz` runs every check everywhere but for the exceptions tests/fuzz/schemathesis.toml gives with
their reasons; this pins each exception to the operations it names (a typo would silently widen or drop
one, and a new exception shows up here)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from tests.fuzz.__main__ import CONFIG
from ui_iot.openapi import operator_spec

CANCEL = {
    "GET /customer/jobs/{job_id}",
    "DELETE /customer/jobs/{job_id}",
    "GET /customer/jobs/{job_id}/executions",
    "GET /customer/jobs/{job_id}/executions/{device_id}/events",
    "GET /customer/jobs/{job_id}/status-series",
    "GET /customer/jobs/{job_id}/failure-reasons",
    "POST /customer/jobs/{job_id}/cancel",
    "POST /customer/jobs/{job_id}/executions/{device_id}/cancel",
    # under the same path (no DELETE method: the check does not apply to them anyway)
    "POST /customer/jobs/{job_id}/delete",
    "POST /customer/jobs/{job_id}/executions/{device_id}/delete",
}
EVERY_OTHER_CHECK = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
)
STATE_DEPENDENT_400 = {
    "POST /customer/groups/{group_id}/members",
    "POST /customer/jobs",
    "POST /customer/devices/import",
}


def _device_spec() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as home:
        return create_device_app(Settings(secret="t", home=Path(home)), "postgresql://u/t").openapi()


@pytest.mark.parametrize("spec", [operator_spec(), _device_spec()], ids=["operator", "device"])
def test_the_fuzz_exceptions_apply_where_their_reasons_do(spec: dict[str, object]) -> None:
    schema = schemathesis.openapi.from_dict(spec, config=SchemathesisConfig.from_path(CONFIG))
    for result in schema.get_all_operations():
        operation = result.ok()
        checks = schema.config.checks_config_for(operation=operation)
        assert checks.use_after_free.enabled == (operation.label not in CANCEL), operation.label
        accepts_400 = "400" in checks.positive_data_acceptance.expected_statuses
        assert accepts_400 == (operation.label in STATE_DEPENDENT_400), operation.label
        for name in EVERY_OTHER_CHECK:
            assert getattr(checks, name).enabled, (operation.label, name)

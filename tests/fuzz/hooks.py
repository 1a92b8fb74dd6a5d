"""Schemathesis hooks for `make fuzz` (loaded through tests/fuzz/schemathesis.toml)."""

from __future__ import annotations

from typing import Any

import schemathesis

# The request fields that hold a free-form JSON document (shared/web/validation.py `json_object`). They are
# stored as jsonb and handled with orjson, so a NUL character anywhere in them, or an integer beyond
# 64 bits, is refused with a 422, as their description in the specs says. JSON Schema cannot say it of
# every nested value without turning the documents' type into a recursive one for generated clients, so
# the generator is kept to what the description allows (stored plain strings say it with a pattern, and
# are fuzzed with NUL and everything else).
DOCUMENTS = ("attributes", "desired", "reported", "document_params", "status_details")
INT64 = range(-(2**63), 2**63)


def storable(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in INT64
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return True


@schemathesis.hook
def filter_body(context: schemathesis.HookContext, body: Any) -> bool:
    return not isinstance(body, dict) or all(storable(body[k]) for k in DOCUMENTS if k in body)


# The device poll's `?wait=N` (0 to 60) long-polls a device with nothing pending for N seconds: valid, but
# thousands of examples each waiting up to a minute would take hours. Generated waits are kept to 1 second
# (values out of range are still generated and refused with 422).
@schemathesis.hook
def map_query(context: schemathesis.HookContext, query: Any) -> Any:
    if isinstance(query, dict) and isinstance(query.get("wait"), int) and 1 < query["wait"] <= 60:
        return {**query, "wait": 1}
    return query

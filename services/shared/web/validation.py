"""Reusable Pydantic field types with the limits the APIs promise."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints

from shared.twin import json_depth

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
JOB_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_DEPTH = 16
# The largest integer that a JSON number carries exactly to every client (JavaScript's included).
SAFE_INT_MAX = 2**53 - 1
# PostgreSQL's text and jsonb cannot hold NUL; the specs say so where a string is stored.
NO_NUL = r"^[^\x00]*$"


# The config of every JSON request body: unknown fields are refused, and no value is coerced to the declared
# type (`false` is not 0 nor `1` true, "5" is not 5), as the OpenAPI spec says.
STRICT_BODY = ConfigDict(extra="forbid", strict=True)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _json_within(limit: int) -> AfterValidator:
    def check(value: dict[str, Any]) -> dict[str, Any]:
        if json_depth(value, MAX_DEPTH) > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        try:
            encoded = orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError) as exc:
            raise ValueError("not representable as JSON") from exc
        if len(encoded) > limit:
            raise ValueError(f"larger than {limit} bytes as JSON ({len(encoded)})")
        if b"\\u0000" in encoded:
            raise ValueError("must not contain NUL characters")
        return value

    return AfterValidator(check)


def json_object(limit: int) -> Any:
    about = f"a JSON object of at most {limit} bytes and {MAX_DEPTH} levels, no NUL, no integer over 64 bits"
    return Annotated[dict[str, Any], _json_within(limit), Field(description=about)]


def _integral(value: Any) -> Any:
    """5.0 is an integer to JSON Schema (and to JavaScript); a strict int refuses it, so it is made 5 first.
    Booleans and strings stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
JobId = Annotated[str, StringConstraints(pattern=JOB_ID_PATTERN)]
# The pattern documents what _no_nul checks (with a clearer message than a pattern's).
_NUL_FREE = Field(json_schema_extra={"pattern": NO_NUL})
Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul), _NUL_FREE]
Text = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_nul), _NUL_FREE]
DocumentType = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(_no_nul), _NUL_FREE
]
# AWS job templates' documentParameters: names as in the placeholders ${aws:iot:parameter:NAME}, values
# strings (as in AWS: 1 to 512 characters).
TemplateParameters = Annotated[
    dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")],
        Annotated[str, StringConstraints(min_length=1, max_length=512), AfterValidator(_no_nul), _NUL_FREE],
    ],
    Field(max_length=100),
]
# An integer of a JSON body (in a STRICT_BODY model): an int, or a float without a fraction.
Integer = Annotated[int, BeforeValidator(_integral)]


def integer(*, ge: int, le: int) -> Any:
    """An Integer within bounds (given before the validator, or the spec would not show them)."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_integral)]


Limit = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0, le=10_000_000)]

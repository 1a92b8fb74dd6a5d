"""AWS names for iotcloud's things: ARNs (the account is the tenant, the region is configured), pagination
tokens, timestamps."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

from aws_api.control.context import INVALID, aws_error

ARN = re.compile(r"^arn:aws:iot:(?P<region>[a-z0-9-]*):(?P<account>[^:]+):(?P<kind>[a-z]+)/(?P<name>.+)$")
# A thing's name is its device_id (shared/web/validation.py ID_PATTERN); a thing group's, its group_id.
THING_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def arn(region: str, tenant_id: str, kind: str, name: str) -> str:
    return f"arn:aws:iot:{region}:{tenant_id}:{kind}/{name}"


def parse_arn(value: str, region: str, tenant_id: str, kinds: tuple[str, ...]) -> tuple[str, str]:
    """(kind, name) of an ARN of this account, of one of `kinds`; else InvalidRequestException."""
    m = ARN.match(value)
    if m is None or m["kind"] not in kinds:
        raise aws_error(INVALID, f"not a {' or '.join(kinds)} ARN: {value!r}")
    if m["account"] != tenant_id or (m["region"] and m["region"] != region):
        raise aws_error(INVALID, f"{value!r} is not an ARN of account {tenant_id} in {region}")
    return m["kind"], m["name"]


def check_name(value: str, what: str, pattern: re.Pattern[str] = THING_NAME) -> str:
    if not pattern.match(value):
        raise aws_error(INVALID, f"{what} {value!r} does not match {pattern.pattern}")
    return value


def epoch(value: datetime | None) -> float | None:
    """A timestamp as REST-JSON sends it: seconds since the epoch."""
    return value.timestamp() if value is not None else None


MAX_OFFSET = 2**31 - 1


def max_results(raw: str | None, default: int, most: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise aws_error(INVALID, f"maxResults must be an integer from 1 to {most}")
    return int(raw)


def next_token(position: dict[str, Any] | None) -> str | None:
    """An opaque nextToken holding where the next page starts (None: no next page)."""
    if position is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def read_token(raw: str | None, key: str, kind: type) -> Any:
    """The position a nextToken holds (None without a token); a token that is not ours is refused."""
    if raw is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode()))[key]
    except (ValueError, KeyError, TypeError) as exc:
        raise aws_error(INVALID, "invalid nextToken") from exc
    if not isinstance(value, kind) or isinstance(value, bool):
        raise aws_error(INVALID, "invalid nextToken")
    if isinstance(value, int) and not 0 <= value <= MAX_OFFSET:
        raise aws_error(INVALID, "invalid nextToken")
    if isinstance(value, str) and (len(value) > 256 or "\x00" in value):
        raise aws_error(INVALID, "invalid nextToken")
    return value


def flag(raw: str | None, name: str) -> bool:
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise aws_error(INVALID, f"{name} must be true or false")
    return raw == "true"


def compact(**fields: Any) -> dict[str, Any]:
    """A response without its null members (AWS leaves out what it has not)."""
    return {k: v for k, v in fields.items() if v is not None}

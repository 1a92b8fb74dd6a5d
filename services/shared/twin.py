"""Device twin: desired vs reported state, and the delta a device still has to apply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.errors import Conflict, NotFound

JSONDict = dict[str, Any]


def compute_delta(desired: JSONDict | None, reported: JSONDict | None) -> JSONDict:
    """Keys of `desired` whose value differs from `reported` (recursively for nested objects).

    A desired value of None means "remove"; it is part of the delta while reported still has the key.
    """
    desired = desired or {}
    reported = reported or {}
    delta: JSONDict = {}
    for key, want in desired.items():
        have = reported.get(key)
        if isinstance(want, dict) and isinstance(have, dict):
            sub = compute_delta(want, have)
            if sub:
                delta[key] = sub
        elif want is None:
            if key in reported:
                delta[key] = None
        elif want != have or key not in reported:
            delta[key] = want
    return delta


def merge_patch(base: JSONDict | None, patch: JSONDict) -> JSONDict:
    """RFC 7386 JSON merge patch: objects merge recursively, None deletes a key."""
    result: JSONDict = dict(base or {})
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_patch(result[key], value)
        else:
            result[key] = value
    return result


def json_depth(value: Any, limit: int = 32) -> int:
    """Nesting depth of a JSON value, stopping early past `limit`."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


# --- persistence (tenant-scoped connection; writes bind the caller's `now`) ---------------------------

TWIN_COLUMNS = "device_id, desired_state, reported_state, desired_version, reported_version, updated_at"

SELECT_TWIN = f"SELECT {TWIN_COLUMNS} FROM device_state WHERE device_id = $1"

# Merge-patch of desired happens in Python (RFC 7386 semantics) under a row lock.
LOCK_TWIN = f"SELECT {TWIN_COLUMNS} FROM device_state WHERE device_id = $1 FOR UPDATE"

SET_DESIRED = f"""
UPDATE device_state SET desired_state = $2, desired_version = desired_version + 1, updated_at = $3
 WHERE device_id = $1 RETURNING {TWIN_COLUMNS}
"""

SET_REPORTED = f"""
UPDATE device_state SET reported_state = $2, reported_version = reported_version + 1, updated_at = $3
 WHERE device_id = $1 RETURNING {TWIN_COLUMNS}
"""


def twin_view(row: Any) -> JSONDict:
    desired = row["desired_state"]
    reported = row["reported_state"]
    return {
        "device_id": row["device_id"],
        "desired": desired,
        "reported": reported,
        "desired_version": row["desired_version"],
        "reported_version": row["reported_version"],
        "delta": compute_delta(desired, reported),
        "updated_at": row["updated_at"],
    }


async def get_twin(conn: Any, device_id: str) -> JSONDict:

    row = await conn.fetchrow(SELECT_TWIN, device_id)
    if row is None:
        raise NotFound(f"device {device_id!r} not found")
    return twin_view(row)


async def _patch(
    conn: Any, device_id: str, column: str, stmt: str, patch: JSONDict, expected: int | None, now: datetime
) -> JSONDict:
    """Runs inside the caller's tenant transaction: the row lock taken here holds until it commits."""
    row = await conn.fetchrow(LOCK_TWIN, device_id)
    if row is None:
        raise NotFound(f"device {device_id!r} not found")
    version_col = "desired_version" if column == "desired_state" else "reported_version"
    if expected is not None and expected != row[version_col]:
        raise Conflict(
            f"version mismatch: expected {expected}, current {row[version_col]}", current=twin_view(row)
        )
    updated = await conn.fetchrow(stmt, device_id, merge_patch(row[column], patch), now)
    return twin_view(updated)


async def patch_desired(
    conn: Any, device_id: str, patch: JSONDict, expected_version: int | None, now: datetime
) -> JSONDict:
    return await _patch(conn, device_id, "desired_state", SET_DESIRED, patch, expected_version, now)


async def patch_reported(
    conn: Any, device_id: str, patch: JSONDict, expected_version: int | None, now: datetime
) -> JSONDict:
    return await _patch(conn, device_id, "reported_state", SET_REPORTED, patch, expected_version, now)

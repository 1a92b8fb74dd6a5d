"""A selection of the tenant's devices, as the console's devices list makes it: explicit device ids, or every
device matching the list's filters (search text on id or name, status). Fleet-sized selections are resolved
in SQL (`INSERT ... SELECT`), never read into Python: the fragments here are the one definition of "matching"
that the devices list (shared/devices.py), group membership (shared/groups.py) and a job's fan-out
(shared/jobs/queries.py) all use. Tenant-scoped connections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.errors import BadRequest
from shared.infra.db import TENANT_SQL

MAX_DEVICE_IDS = 10_000  # explicit ids in one request; larger selections are given as a filter


def matching_sql(q: str, status: str) -> str:
    """The filter of the devices list over `device_state d`, with its two parameters' placeholders: `q`
    the search text as a LIKE-escaped pattern or NULL, `status` a status or NULL. Placeholders only: no value
    is ever formatted into SQL."""
    return (
        f"d.tenant_id = {TENANT_SQL}"
        f" AND ({q}::text IS NULL OR d.device_id ILIKE '%' || {q} || '%' OR d.name ILIKE '%' || {q} || '%')"
        f" AND ({status}::text IS NULL OR d.status = {status})"
    )


# $1: ids; the ids that are not devices of the tenant (another tenant's are not visible: RLS).
UNKNOWN_IDS = """
SELECT coalesce(array_agg(w.device_id ORDER BY w.device_id), '{}')
  FROM (SELECT DISTINCT unnest($1::text[]) AS device_id) w
 WHERE NOT EXISTS (SELECT 1 FROM device_state d WHERE d.device_id = w.device_id)
"""


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class Selection:
    """Exactly one of: `device_ids` (at most MAX_DEVICE_IDS), or `matching` true with the filter `q`,
    `status` (either may be None: no filter on it; both None: the whole fleet)."""

    device_ids: list[str] | None = None
    q: str | None = None
    status: str | None = None

    @property
    def matching(self) -> bool:
        return self.device_ids is None

    def filter_params(self) -> tuple[str | None, str | None]:
        """The bind values of matching_sql: the LIKE-escaped pattern and the status."""
        return (escape_like(self.q) if self.q else None), self.status

    def described(self) -> dict[str, Any]:
        """How the selection was given, as a job records it (jobs.target_devices)."""
        if self.device_ids is not None:
            return {"device_count": len(set(self.device_ids))}
        return {"matching": {"q": self.q, "status": self.status}}


async def refuse_unknown(conn: asyncpg.Connection, selection: Selection) -> None:
    """400 naming the ids of an explicit selection that are not the tenant's devices (nothing is changed)."""
    if selection.device_ids is None:
        return
    unknown = list(await conn.fetchval(UNKNOWN_IDS, selection.device_ids))
    if unknown:
        raise BadRequest(f"unknown device ids: {', '.join(unknown[:20])}", unknown_device_ids=unknown)

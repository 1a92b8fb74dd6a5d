"""Quotas per tenant (docs/operations.md "Quotas"), kept on the tenant's row (NULL: no limit) and set with
`iotcloud set-quota`: devices (ACTIVE ones), active jobs (IN_PROGRESS and SCHEDULED ones), executions per
job, and artifact storage (the bytes of the tenant's artifacts, each content once).

Over a quota the request is refused with 403 `quota_exceeded` and nothing is stored. A check that counts
rows (devices, active jobs) first takes a transaction advisory lock of that quota and tenant, so two
concurrent requests at quota - 1 are decided one after the other and only one gets through; the count then
runs in a statement of its own, whose snapshot sees what the one before committed. A tenant without that
quota takes no lock and counts nothing. Executions per job are checked on the fan-out's row count: the
raise rolls back the whole job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.errors import BadRequest, Forbidden, NotFound
from shared.infra.db import TENANT_SQL

QUOTA_NAMES = ("devices", "active_jobs", "executions_per_job", "artifact_bytes")

_QUOTA_COLUMNS = "max_devices, max_active_jobs, max_executions_per_job, max_artifact_bytes"  # as QUOTA_NAMES

# The quotas, and the tenant's lock of the counted one when it is set: concurrent checks of this tenant queue
# there until commit.
LOCK_DEVICES_QUOTA = f"""
SELECT max_devices,
       CASE WHEN max_devices IS NOT NULL
            THEN pg_advisory_xact_lock(hashtextextended('iotcloud.quota.devices:' || tenant_id, 0)) END
  FROM tenants WHERE tenant_id = {TENANT_SQL}
"""
LOCK_JOBS_QUOTA = f"""
SELECT max_active_jobs, max_executions_per_job,
       CASE WHEN max_active_jobs IS NOT NULL
            THEN pg_advisory_xact_lock(hashtextextended('iotcloud.quota.active_jobs:' || tenant_id, 0)) END
  FROM tenants WHERE tenant_id = {TENANT_SQL}
"""

LOCK_ARTIFACT_QUOTA = f"""
SELECT max_artifact_bytes,
       CASE WHEN max_artifact_bytes IS NOT NULL
            THEN pg_advisory_xact_lock(hashtextextended('iotcloud.quota.artifact_bytes:' || tenant_id, 0)) END
  FROM tenants WHERE tenant_id = {TENANT_SQL}
"""

ACTIVE_DEVICES = "SELECT count(*) FROM device_state WHERE status = 'ACTIVE'"
# Artifact storage: each content once (names sharing a SHA-256 share its bytes, as the storage does).
ARTIFACT_BYTES = (
    "SELECT coalesce(sum(a.size), 0)::bigint FROM (SELECT DISTINCT sha256, size FROM artifacts) a"
)
ARTIFACT_STORED = "SELECT 1 FROM artifacts WHERE sha256 = $1 LIMIT 1"
ACTIVE_JOBS = "SELECT count(*) FROM jobs WHERE status IN ('IN_PROGRESS', 'SCHEDULED')"

USAGE = f"""
SELECT {_QUOTA_COLUMNS},
       (SELECT count(*) FROM device_state d WHERE d.status = 'ACTIVE') AS devices,
       (SELECT count(*) FROM jobs j WHERE j.status IN ('IN_PROGRESS', 'SCHEDULED')) AS active_jobs,
       (SELECT coalesce(max(j.execution_count), 0) FROM jobs j WHERE j.status = 'IN_PROGRESS')
           AS executions_per_job,
       (SELECT coalesce(sum(a.size), 0)::bigint FROM (SELECT DISTINCT sha256, size FROM artifacts) a)
           AS artifact_bytes
  FROM tenants WHERE tenant_id = {TENANT_SQL}
"""

# `iotcloud set-quota` (owner connection): each quota is changed only when its flag is true.
SET_QUOTAS = f"""
UPDATE tenants
   SET max_devices = CASE WHEN $2 THEN $3::integer ELSE max_devices END,
       max_active_jobs = CASE WHEN $4 THEN $5::integer ELSE max_active_jobs END,
       max_executions_per_job = CASE WHEN $6 THEN $7::integer ELSE max_executions_per_job END,
       max_artifact_bytes = CASE WHEN $8 THEN $9::bigint ELSE max_artifact_bytes END
 WHERE tenant_id = $1
RETURNING {_QUOTA_COLUMNS}
"""


class QuotaExceeded(Forbidden):
    code = "quota_exceeded"


def _refuse(quota: str, limit: int, used: int, what: str) -> QuotaExceeded:
    return QuotaExceeded(
        f"quota exceeded: {what} (the tenant's {quota} quota is {limit}); nothing was stored",
        quota=quota,
        limit=limit,
        used=used,
    )


async def check_new_device(conn: asyncpg.Connection, adding: int = 1) -> None:
    """Before `adding` devices are added in this transaction (an import adds many): refuses them when the
    tenant's ACTIVE devices would pass their quota. Holds the tenant's devices-quota lock until commit."""
    limit = await conn.fetchval(LOCK_DEVICES_QUOTA)
    if limit is None:
        return
    used = int(await conn.fetchval(ACTIVE_DEVICES))
    if used + adding > limit:
        what = f"the tenant has {used} active devices" + (f" and adds {adding}" if adding > 1 else "")
        raise _refuse("devices", limit, used, what)


async def check_new_artifact(conn: asyncpg.Connection, sha256: str, size: int) -> None:
    """Before an artifact is recorded in this transaction: refuses it when its bytes (none when the same
    content is stored already) would take the tenant's artifact storage past its quota. Holds the tenant's
    artifact-quota lock until commit."""
    limit = await conn.fetchval(LOCK_ARTIFACT_QUOTA)
    if limit is None or await conn.fetchval(ARTIFACT_STORED, sha256):
        return
    used = int(await conn.fetchval(ARTIFACT_BYTES))
    if used + size > limit:
        raise _refuse("artifact_bytes", limit, used, f"{size} more bytes on the {used} stored")


@dataclass(frozen=True, slots=True)
class JobQuota:
    max_executions: int | None

    def check_fan_out(self, executions: int) -> None:
        """After the fan-out: refuses a job of more executions than the quota (the caller's transaction then
        rolls back the job and every execution)."""
        if self.max_executions is not None and executions > self.max_executions:
            raise _refuse(
                "executions_per_job",
                self.max_executions,
                executions,
                f"the job would have {executions} executions",
            )


async def check_new_job(conn: asyncpg.Connection) -> JobQuota:
    """Before a job is created in this transaction: refuses it when the tenant's IN_PROGRESS jobs are at
    their quota (holding the tenant's jobs-quota lock until commit); the executions quota is checked after
    the fan-out with the JobQuota returned."""
    row = await conn.fetchrow(LOCK_JOBS_QUOTA)
    if row is None:
        return JobQuota(None)
    limit = row["max_active_jobs"]
    if limit is not None:
        used = int(await conn.fetchval(ACTIVE_JOBS))
        if used >= limit:
            raise _refuse("active_jobs", limit, used, f"the tenant has {used} jobs in progress")
    return JobQuota(row["max_executions_per_job"])


async def usage(conn: asyncpg.Connection) -> dict[str, dict[str, int | None]]:
    """Each quota's limit (None: no limit) and what is used now; for executions per job, the largest job in
    progress."""
    row = await conn.fetchrow(USAGE)
    if row is None:
        raise NotFound("tenant not found")
    limits = dict(zip(QUOTA_NAMES, list(row.values())[:4], strict=True))
    return {name: {"limit": limits[name], "used": int(row[name])} for name in QUOTA_NAMES}


def parse_limit(name: str, text: str) -> int | None:
    """A quota as given to the CLI: a whole number >= 0, or `none` (no limit)."""
    if text.strip().lower() in ("none", "unlimited"):
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0 or (name != "artifact_bytes" and value > 2**31 - 1):
        raise BadRequest(f"--{name.replace('_', '-')}: a whole number >= 0, or none (no limit); got {text!r}")
    return value


async def set_quotas(
    conn: asyncpg.Connection, tenant_id: str, changes: dict[str, int | None]
) -> dict[str, Any]:
    """Sets the quotas named in `changes` (owner connection); the others keep their value. The tenant's
    quotas after the change; NotFound for an unknown tenant."""
    args: list[Any] = [tenant_id]
    for name in QUOTA_NAMES:
        args += [name in changes, changes.get(name)]
    row = await conn.fetchrow(SET_QUOTAS, *args)
    if row is None:
        raise NotFound(f"no tenant {tenant_id!r}: run `iotcloud create-tenant {tenant_id}`")
    return dict(zip(QUOTA_NAMES, row.values(), strict=True))

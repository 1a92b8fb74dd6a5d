"""Job notifications, the Python side of db/functions/096_notify.sql (docs/jobs.md, "Notifications").

A transaction that makes a job reach devices sends, on commit, one PostgreSQL NOTIFY on CHANNEL per job with
the JSON payload {"tenant": ..., "device": ... or null, "job": ..., "at": ...}. The SQL functions build and
send it (one place); this module names the channel for listeners, reads a payload back (JobNotice.parse)
and sends the notifications of what Python code releases itself (a job's creation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

CHANNEL = "iotcloud_jobs"

NOTIFY_JOBS = "SELECT iotcloud.notify_jobs($1::text[], $2::text[])"


@dataclass(frozen=True, slots=True)
class JobNotice:
    """Job `job` reached device `device` of tenant `tenant` (device None: possibly several of its devices)."""

    tenant: str
    device: str | None
    job: str
    at: float | None = None  # when it was sent (epoch seconds; for the notify latency metric)

    @classmethod
    def parse(cls, payload: str) -> JobNotice | None:
        """The notice of a payload; None for one that is not ours (anyone may NOTIFY on a channel)."""
        try:
            data: Any = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        tenant, device, job = data.get("tenant"), data.get("device"), data.get("job")
        if not isinstance(tenant, str) or not isinstance(job, str):
            return None
        if device is not None and not isinstance(device, str):
            return None
        at = data.get("at")
        return cls(tenant, device, job, float(at) if isinstance(at, int | float) else None)

    def concerns(self, tenant: str, device: str) -> bool:
        return self.tenant == tenant and (self.device is None or self.device == device)


async def jobs_reached(
    conn: asyncpg.Connection, job_ids: Sequence[str], device_ids: Sequence[str | None] | None = None
) -> None:
    """In the caller's tenant transaction: jobs `job_ids` reached devices (`device_ids` in the same order,
    None where several may have been); the notifications go out when the transaction commits."""
    await conn.execute(NOTIFY_JOBS, list(job_ids), list(device_ids) if device_ids is not None else None)

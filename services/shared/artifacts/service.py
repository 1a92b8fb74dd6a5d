"""Artifacts for operators: upload (streamed to the storage, then recorded), list, read with the jobs that
reference it, delete when no running job needs it. Also the checks of a job document's artifact references.

Upload and delete of the same content are serialized by an advisory lock on (tenant, sha256), so a delete that
finds the content unreferenced removes the blob before an upload of the same content places it again."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable
from datetime import datetime
from typing import Any

import asyncpg

from shared import quotas
from shared.artifacts.storage import ArtifactStorage, content_key
from shared.audit import AuditHook
from shared.errors import BadRequest, Conflict, NotFound
from shared.infra.db import TENANT_SQL, tenant_tx

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
_NAME = re.compile(NAME_PATTERN)
# ${iotcloud:artifact-url:NAME} anywhere in a string of a job document.
PLACEHOLDER = re.compile(r"\$\{iotcloud:artifact-url:([^}]*)\}")

ARTIFACT_COLUMNS = "a.name, a.sha256, a.size, a.content_type, a.created_by, a.created_at"

CONTENT_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('iotcloud.artifact:' || $1 || ':' || $2, 0))"

INSERT_ARTIFACT = f"""
INSERT INTO artifacts AS a (tenant_id, name, sha256, size, content_type, created_by, created_at)
VALUES ({TENANT_SQL}, $1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, name) DO NOTHING
RETURNING {ARTIFACT_COLUMNS}
"""

LIST_ARTIFACTS = f"""
SELECT {ARTIFACT_COLUMNS}, count(*) OVER () AS total
  FROM artifacts a
 ORDER BY a.created_at DESC, a.name
 LIMIT $1 OFFSET $2
"""

COUNT_ARTIFACTS = "SELECT count(*) FROM artifacts"

GET_ARTIFACT = f"SELECT {ARTIFACT_COLUMNS} FROM artifacts a WHERE a.name = $1"

# A job still needs an artifact while it runs or any of its executions is active (a canceled job's device may
# still be downloading what it started).
JOBS_USING = """
SELECT j.job_id, j.status, j.created_at,
       (j.status = 'IN_PROGRESS' OR EXISTS (SELECT 1 FROM job_counters c
                                             WHERE c.tenant_id = j.tenant_id AND c.job_id = j.job_id
                                               AND c.queued + c.in_progress > 0)) AS active
  FROM jobs j
 WHERE j.artifacts @> ARRAY[$1::text] AND j.artifacts <> '{}'
 ORDER BY j.created_at DESC, j.job_id
"""

# Row locks: a job's creation shares the rows of the artifacts it references; a delete takes the row first
# (waiting for those creations), then reads the jobs in a new statement (a fresh snapshot).
LOCK_FOR_JOB = "SELECT a.name FROM artifacts a WHERE a.name = ANY($1::text[]) ORDER BY a.name FOR SHARE"
LOCK_FOR_DELETE = "SELECT a.sha256 FROM artifacts a WHERE a.name = $1 FOR UPDATE"
DELETE_ARTIFACT = "DELETE FROM artifacts WHERE name = $1"
CONTENT_IN_USE = "SELECT 1 FROM artifacts WHERE sha256 = $1 LIMIT 1"

# For a device: the artifacts its job references, by name.
BY_NAMES = "SELECT a.name, a.sha256, a.size FROM artifacts a WHERE a.name = ANY($1::text[])"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise BadRequest(f"artifact name must match {NAME_PATTERN}")
    return name


def referenced_names(document: Any, *, strict: bool = True) -> list[str]:
    """The artifact names a job document references, sorted, each once; a malformed name is a 400 (not
    strict: left out, for documents already stored)."""
    found: set[str] = set()
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "${iotcloud:" in value:
                found.update(PLACEHOLDER.findall(value))
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    bad = sorted(n for n in found if not _NAME.match(n))
    if bad and not strict:
        found.difference_update(bad)
    elif bad:
        raise BadRequest(f"malformed artifact names in ${{iotcloud:artifact-url:...}}: {', '.join(bad)}")
    return sorted(found)


async def lock_for_job(conn: asyncpg.Connection, names: list[str]) -> None:
    """Every artifact a new job references exists (else 400 naming the missing ones) and stays until the job
    is committed (its rows share-locked: a concurrent delete waits, then sees the job)."""
    if not names:
        return
    present = {r["name"] for r in await conn.fetch(LOCK_FOR_JOB, names)}
    missing = [n for n in names if n not in present]
    if missing:
        raise BadRequest(f"unknown artifacts: {', '.join(missing)}", unknown_artifacts=missing)


async def upload(
    pool: asyncpg.Pool,
    storage: ArtifactStorage,
    tenant_id: str,
    *,
    name: str,
    content_type: str,
    chunks: AsyncIterable[bytes],
    max_bytes: int,
    created_by: str | None,
    now: datetime,
    audit: AuditHook | None = None,
) -> dict[str, Any]:
    """Streams the body to the storage (hashing it), then records it under `name` and places the content
    under its SHA-256 (stored once however many names share it). 409 when the name exists; 413 past
    max_bytes. Nothing is left behind on a failure."""
    check_name(name)
    staged = await storage.stage(chunks, max_bytes)
    try:
        async with tenant_tx(pool, tenant_id) as conn:
            await conn.execute(CONTENT_LOCK, tenant_id, staged.sha256)
            await quotas.check_new_artifact(conn, staged.sha256, staged.size)
            row = await conn.fetchrow(
                INSERT_ARTIFACT, name, staged.sha256, staged.size, content_type, created_by, now
            )
            if row is None:
                raise Conflict(f"artifact {name!r} already exists")
            if audit is not None:
                await audit(conn)
            await storage.commit(staged, content_key(tenant_id, staged.sha256))
    except BaseException:
        await storage.discard(staged)
        raise
    return dict(row)


async def list_artifacts(
    conn: asyncpg.Connection, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(LIST_ARTIFACTS, limit, offset)
    total = int(rows[0]["total"]) if rows else int(await conn.fetchval(COUNT_ARTIFACTS))
    return [{k: v for k, v in dict(r).items() if k != "total"} for r in rows], total


async def get_artifact(conn: asyncpg.Connection, name: str) -> dict[str, Any]:
    row = await conn.fetchrow(GET_ARTIFACT, name)
    if row is None:
        raise NotFound(f"artifact {name!r} not found")
    jobs = [dict(r) for r in await conn.fetch(JOBS_USING, name)]
    return {**dict(row), "jobs": jobs}


async def delete_artifact(
    pool: asyncpg.Pool, storage: ArtifactStorage, tenant_id: str, name: str, audit: AuditHook | None = None
) -> None:
    """Deletes the artifact unless a job that still needs it references it (409 naming them); its content
    leaves the storage with the last name that held it. `audit` runs in the deleting transaction."""
    async with tenant_tx(pool, tenant_id) as conn:
        sha = await conn.fetchval(LOCK_FOR_DELETE, name)
        if sha is None:
            raise NotFound(f"artifact {name!r} not found")
        active = [r["job_id"] for r in await conn.fetch(JOBS_USING, name) if r["active"]]
        if active:
            raise Conflict(
                f"artifact {name!r} is referenced by running jobs: {', '.join(active[:20])}", jobs=active
            )
        await conn.execute(CONTENT_LOCK, tenant_id, sha)
        await conn.execute(DELETE_ARTIFACT, name)
        if audit is not None:
            await audit(conn)
        if await conn.fetchval(CONTENT_IN_USE, sha) is None:
            # inside the transaction, under the content lock: an upload of the same content waits, then
            # places it again
            await storage.delete(content_key(tenant_id, sha))

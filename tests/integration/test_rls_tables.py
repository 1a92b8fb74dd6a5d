"""Row-level security on every tenant table, as the runtime role in tenant A's transaction, against tenant
B's rows: reads return nothing, an INSERT of a row of B's is refused with SQLSTATE 42501, an UPDATE or DELETE
aimed at B's rows touches none (the policies' USING hides them), and moving one of A's own rows to B is
refused. The INSERT is the policies' WITH CHECK alone; the move is refused by WITH CHECK and, because the
UPDATE reads the table, by USING applied to the new row as well.

Where the runtime role holds no grant for the write at all (tenants; UPDATE on job templates; UPDATE and
DELETE on the append-only history and audit log), the refusal is the missing privilege, also 42501: each case asserts
which of the two refused it, from the role's grants in the catalog. Every statement runs in a transaction
that is rolled back, so a broken policy shows up as a failed assertion and leaves nothing behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from shared.infra.db import SET_TENANT, connect
from tests.conftest import Services, Tenant, make_tenant
from tests.support.schema import TENANT_TABLES


@dataclass(frozen=True)
class Pair:
    a: Tenant  # the caller
    b: Tenant  # the other tenant, whose rows are aimed at
    b_rows: dict[str, int]  # rows of B per table, read as the owner


async def _seed(t: Tenant) -> None:
    """A row of the tenant's in every tenant table: devices, a group with one member, an artifact, a job, its
    execution and counters, history events (a claim; a rejection, counted in the failures by minute), a job
    template, audit rows and an AWS access key."""
    devs = await t.create_devices(2, prefix="rls")
    await t.create_group("g", devs[:1])
    async with t.api() as api:
        r = await api.post("/customer/artifacts", params={"name": "a"}, content=t.tenant_id.encode())
        assert r.status_code == 201, r.text
        r = await api.post(
            "/customer/jobs", json={"job_id": "j", "document_type": "x", "target_group_id": "g"}
        )
        assert r.status_code == 201, r.text
        r = await api.post(
            "/customer/jobs", json={"job_id": "f", "document_type": "x", "target_device_id": devs[1]}
        )
        assert r.status_code == 201, r.text
    async with t.device_api(devs[0]) as d:
        assert (await d.put("/device/v1/jobs/j/execution", json={"status": "IN_PROGRESS"})).status_code == 200
    async with t.device_api(devs[1]) as d:
        assert (await d.put("/device/v1/jobs/f/execution", json={"status": "REJECTED"})).status_code == 200
    async with t.api() as api:  # a template; creating it and the job wrote audit rows
        r = await api.post("/customer/job-templates", json={"template_id": "tpl", "document_type": "x"})
        assert r.status_code == 201, r.text
        r = await api.post("/customer/access-keys")
        assert r.status_code == 201, r.text


async def _rows_per_table(services: Services, tenant_id: str) -> dict[str, int]:
    owner = await connect(services.db.owner_url)
    try:
        return {
            t: int(await owner.fetchval(f"SELECT count(*) FROM {t} WHERE tenant_id = $1", tenant_id))
            for t in TENANT_TABLES
        }
    finally:
        await owner.close()


@pytest.fixture(scope="module")
async def pair(services: Services) -> Pair:
    a, b = await make_tenant(services), await make_tenant(services)
    await _seed(a)
    await _seed(b)
    rows = await _rows_per_table(services, b.tenant_id)
    assert all(rows.values()), f"tenant B must have rows in every table: {rows}"
    assert await _rows_per_table(services, a.tenant_id) == rows
    return Pair(a, b, rows)


def _only_b(b: str) -> tuple[Any, ...]:
    return (b,)


# A new row of tenant B's for each table, valid in every other respect (B's own keys exist), so that
# nothing but the tenant check stands in its way.
PLANTS: dict[str, tuple[str, Callable[[str], tuple[Any, ...]]]] = {
    "tenants": ("INSERT INTO tenants (tenant_id, name) VALUES ($1, 'planted')", _only_b),
    "users": (
        "INSERT INTO users (tenant_id, email, password_hash, role) VALUES ($1, $2, 'x', 'admin')",
        lambda b: (b, f"planted-{uuid.uuid4().hex[:8]}@{b}.test"),
    ),
    "device_state": (
        "INSERT INTO device_state (tenant_id, device_id, token_hash) VALUES ($1, 'planted', $2)",
        lambda b: (b, uuid.uuid4().hex),
    ),
    "device_groups": (
        "INSERT INTO device_groups (tenant_id, group_id, name) VALUES ($1, 'planted', 'x')",
        _only_b,
    ),
    "device_group_members": (
        "INSERT INTO device_group_members (tenant_id, group_id, device_id) VALUES ($1, 'g', 'rls-00001')",
        _only_b,
    ),
    "jobs": (
        "INSERT INTO jobs (tenant_id, job_id, document_type, target_all) VALUES ($1, 'planted', 'x', true)",
        _only_b,
    ),
    "job_executions": (
        "INSERT INTO job_executions (tenant_id, job_id, device_id) VALUES ($1, 'j', 'rls-00001')",
        _only_b,
    ),
    "job_counters": ("INSERT INTO job_counters (tenant_id, job_id, shard) VALUES ($1, 'j', 9)", _only_b),
    "job_execution_events": (
        "INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor, "
        "execution_number) VALUES ($1, 'j', 'rls-00000', 'IN_PROGRESS', 'SUCCEEDED', 'device', 3)",
        _only_b,
    ),
    "job_failure_minutes": (
        "INSERT INTO job_failure_minutes (tenant_id, job_id, minute, to_status, failures) "
        "VALUES ($1, 'j', date_trunc('minute', now()), 'FAILED', 1)",
        _only_b,
    ),
    "artifacts": (
        "INSERT INTO artifacts (tenant_id, name, sha256, size, created_at) VALUES ($1, 'planted', $2, 1, now())",
        lambda b: (b, "0" * 64),
    ),
    "job_templates": (
        "INSERT INTO job_templates (tenant_id, template_id, document_type) VALUES ($1, 'planted', 'x')",
        _only_b,
    ),
    "aws_access_keys": (
        "INSERT INTO aws_access_keys (tenant_id, access_key_id, secret_encrypted, user_id, role, created_by, "
        "created_at) VALUES ($1, 'AKIAPLANTED234567ABC', 'x', gen_random_uuid(), 'admin', 'x', now())",
        _only_b,
    ),
    "audit_log": (
        "INSERT INTO audit_log (tenant_id, actor, action, target_type, target_id) "
        "VALUES ($1, 'cli', 'job.deleted', 'job', 'j')",
        _only_b,
    ),
}


def test_every_tenant_table_has_a_planted_row() -> None:
    assert set(PLANTS) == set(TENANT_TABLES)


@pytest.fixture
async def as_a(services: Services, pair: Pair) -> AsyncIterator[asyncpg.Connection]:
    """The runtime role in tenant A's transaction, rolled back at the end."""
    conn = await connect(services.db.app_url)
    tx = conn.transaction()
    await tx.start()
    await conn.execute(SET_TENANT, pair.a.tenant_id)
    try:
        yield conn
    finally:
        await tx.rollback()
        await conn.close()


async def _granted(conn: asyncpg.Connection, table: str, privilege: str) -> bool:
    return bool(await conn.fetchval("SELECT has_table_privilege(current_user, $1, $2)", table, privilege))


async def _refused(conn: asyncpg.Connection, table: str, privilege: str, sql: str, *args: Any) -> None:
    """`sql` fails with 42501: by the policy's WITH CHECK when the role holds `privilege`, else for want
    of it."""
    expected = (
        f'new row violates row-level security policy for table "{table}"'
        if await _granted(conn, table, privilege)
        else f"permission denied for table {table}"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError) as err:
        async with conn.transaction():  # a savepoint: the outer transaction stays usable
            await conn.execute(sql, *args)
    assert err.value.sqlstate == "42501"
    assert str(err.value) == expected


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_reads_of_another_tenants_rows_return_nothing(
    as_a: asyncpg.Connection, pair: Pair, table: str
) -> None:
    assert pair.b_rows[table] > 0
    assert await as_a.fetchval(f"SELECT count(*) FROM {table} WHERE tenant_id = $1", pair.b.tenant_id) == 0
    owners = {r[0] for r in await as_a.fetch(f"SELECT tenant_id FROM {table}")}  # no WHERE at all
    assert owners == {pair.a.tenant_id}, owners  # A's own rows, and only those


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_insert_of_another_tenants_row_is_refused(
    as_a: asyncpg.Connection, pair: Pair, table: str
) -> None:
    sql, args = PLANTS[table]
    await _refused(as_a, table, "INSERT", sql, *args(pair.b.tenant_id))


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_update_and_delete_of_another_tenants_rows_touch_none(
    as_a: asyncpg.Connection, pair: Pair, table: str
) -> None:
    b = pair.b.tenant_id
    for privilege, sql, done in (
        ("UPDATE", f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1", "UPDATE 0"),
        ("DELETE", f"DELETE FROM {table} WHERE tenant_id = $1", "DELETE 0"),
    ):
        if await _granted(as_a, table, privilege):
            assert await as_a.execute(sql, b) == done, (table, privilege)
        else:
            with pytest.raises(
                asyncpg.InsufficientPrivilegeError, match=f"^permission denied for table {table}$"
            ):
                async with as_a.transaction():
                    await as_a.execute(sql, b)


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_moving_own_rows_to_another_tenant_is_refused(
    as_a: asyncpg.Connection, pair: Pair, table: str
) -> None:
    await _refused(
        as_a,
        table,
        "UPDATE",
        f"UPDATE {table} SET tenant_id = $1 WHERE tenant_id = $2",
        pair.b.tenant_id,
        pair.a.tenant_id,
    )

"""The database mirrors the one Python definition of statuses; roles and RLS are as promised."""

import re

import asyncpg
import pytest

from shared.dashboard import FAILURE_STATUSES
from shared.infra.config import APP_ROLE, OWNER_ROLE
from shared.infra.db import SET_TENANT, connect
from shared.infra.migrations import migrate, pending
from shared.jobs.states import COUNTER_COLUMNS, Actor, CancelMode, ExecutionStatus, JobStatus
from tests.support.pg import TestDB
from tests.support.schema import TENANT_TABLES


async def _check_values(conn: asyncpg.Connection, constraint: str) -> set[str]:
    definition = await conn.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1", constraint
    )
    assert definition, constraint
    return set(re.findall(r"'([A-Za-z_]+)'::text", definition))


async def test_status_checks_mirror_python(session_db: TestDB) -> None:
    conn = await connect(session_db.owner_url)
    try:
        assert await _check_values(conn, "jobs_status_check") == {s.value for s in JobStatus}
        execs = {s.value for s in ExecutionStatus}
        assert await _check_values(conn, "job_executions_status_check") == execs
        assert await _check_values(conn, "job_execution_events_from_check") == execs
        assert await _check_values(conn, "job_execution_events_to_check") == execs
        assert await _check_values(conn, "job_execution_events_actor_check") == {a.value for a in Actor}
        assert await _check_values(conn, "jobs_cancel_mode_check") == {m.value for m in CancelMode}
        # the dashboard's failure counts by minute hold exactly the statuses it reads as failures
        failures = {s.value for s in FAILURE_STATUSES}
        assert await _check_values(conn, "job_failure_minutes_to_status_check") == failures
        # one counter column per execution status
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'job_counters' "
            "AND data_type = 'integer'"
        )
        assert {r["column_name"] for r in columns} == set(COUNTER_COLUMNS.values())
    finally:
        await conn.close()


async def test_tables_exist_with_contract_columns(session_db: TestDB) -> None:
    conn = await connect(session_db.owner_url)
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_name IN ('jobs','job_executions') "
            "ORDER BY table_name"
        )
        assert [r["table_name"] for r in rows] == ["job_executions", "jobs"]
        cols = {
            r["table_name"]: set(r["cols"])
            for r in await conn.fetch(
                "SELECT table_name, array_agg(column_name::text) AS cols FROM information_schema.columns "
                "WHERE table_schema = 'public' GROUP BY table_name"
            )
        }
        assert {
            "job_id",
            "tenant_id",
            "document_type",
            "document_params",
            "target_device_id",
            "target_group_id",
            "target_all",
            "status",
            "expires_at",
            "created_by",
            "created_at",
            "updated_at",
        } <= cols["jobs"]
        assert {
            "job_id",
            "tenant_id",
            "device_id",
            "status",
            "status_details",
            "execution_number",
            "queued_at",
            "started_at",
            "last_updated_at",
        } <= cols["job_executions"]
        assert {
            "device_id",
            "tenant_id",
            "name",
            "status",
            "token_hash",
            "last_seen_at",
            "desired_state",
            "reported_state",
            "desired_version",
            "reported_version",
        } <= cols["device_state"]
    finally:
        await conn.close()


async def test_every_tenant_table_has_rls_and_tenant_in_primary_key(session_db: TestDB) -> None:
    conn = await connect(session_db.owner_url)
    try:
        rows = await conn.fetch(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT array_agg(a.attname::text) FROM pg_index i
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                     WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
                   pg_get_userbyid(c.relowner) AS owner
              FROM pg_class c JOIN pg_attribute t ON t.attrelid = c.oid AND t.attname = 'tenant_id'
             WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
            """
        )
        names = {r["relname"] for r in rows}
        assert set(TENANT_TABLES) == names  # a new tenant table joins the list, and so the isolation tests
        for r in rows:
            assert r["relrowsecurity"], r["relname"]
            assert "tenant_id" in r["pk"], r["relname"]
            assert r["owner"] == OWNER_ROLE
    finally:
        await conn.close()


async def test_runtime_role_owns_nothing_and_cannot_bypass_rls(session_db: TestDB) -> None:
    conn = await connect(session_db.app_url)
    try:
        role = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert await conn.fetchval("SELECT current_user") == APP_ROLE
        assert role is not None and not role["rolsuper"] and not role["rolbypassrls"]
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_class"
            " WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert owned == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("ALTER TABLE jobs DISABLE ROW LEVEL SECURITY")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET row_security = off; SELECT * FROM jobs")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM job_execution_events")  # history is append-only
    finally:
        await conn.close()


async def test_without_tenant_nothing_is_visible(session_db: TestDB, tenant: object) -> None:
    conn = await connect(session_db.app_url)
    try:
        for table in ("tenants", "users", "device_state", "jobs", "job_executions"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
        async with conn.transaction():
            await conn.execute(SET_TENANT, "no-such-tenant")
            assert await conn.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await conn.close()


# The one predicate every tenant policy holds rows to, as PostgreSQL prints it back.
TENANT_PREDICATE = "(tenant_id = current_setting('app.tenant_id'::text, true))"


async def test_every_tenant_policy_is_the_tenant_predicate(session_db: TestDB) -> None:
    """Each tenant table has exactly one policy: permissive, for every command and role, whose USING (which
    rows are seen, updated, deleted) and WITH CHECK (which rows may be written) are both the tenant
    predicate. A second permissive policy would widen access (permissive policies are OR-ed)."""
    conn = await connect(session_db.owner_url)
    try:
        rows = await conn.fetch(
            "SELECT tablename, policyname, permissive, roles::text[] AS roles, cmd, qual, with_check"
            " FROM pg_policies WHERE schemaname = 'public'"
        )
    finally:
        await conn.close()
    policies = {r["tablename"]: [dict(p) for p in rows if p["tablename"] == r["tablename"]] for r in rows}
    assert set(policies) == set(TENANT_TABLES)
    for table, found in policies.items():
        assert len(found) == 1, (table, found)
        [p] = found
        assert (p["policyname"], p["permissive"], p["roles"], p["cmd"]) == (
            "tenant_isolation",
            "PERMISSIVE",
            ["public"],
            "ALL",
        ), table
        assert p["qual"] == TENANT_PREDICATE, (table, "USING", p["qual"])
        assert p["with_check"] == TENANT_PREDICATE, (table, "WITH CHECK", p["with_check"])


def test_migrating_twice_changes_nothing(fresh_db: TestDB) -> None:
    assert pending(fresh_db.owner_url) == []
    assert migrate(fresh_db.owner_url) == []
    assert migrate(fresh_db.owner_url) == []


async def test_group_commit_answers_begin_with_the_move_result(session_db: TestDB) -> None:
    """iotcloud.device_move (what group commit answers) repeats iotcloud.move_result's columns first, as
    iotcloud.device_moves selects them from apply_moves' results: the two types may not drift apart."""
    attrs = """
        SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
          FROM pg_attribute a JOIN pg_type t ON t.typrelid = a.attrelid
          JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = 'iotcloud' AND t.typname = $1 AND a.attnum > 0 AND NOT a.attisdropped
    """
    conn = await connect(session_db.owner_url)
    try:
        move_result = await conn.fetchval(attrs, "move_result")
        device_move = await conn.fetchval(attrs, "device_move")
    finally:
        await conn.close()
    assert move_result and device_move[: len(move_result)] == move_result
    assert device_move[len(move_result) :] == [
        "more_pending boolean", "document_type text", "document_params jsonb",
        "expires_at timestamp with time zone",
    ]  # fmt: skip

"""Upgrading keeps data and ends where a fresh install does: a database migrated to 080 (the last migration
before the state machine moved to db/functions), holding jobs in every status, is migrated to now and
compared with a freshly migrated one: same tables, columns, constraints, indexes, policies, grants and
live function bodies, with its data intact and valid under the new constraints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from yoyo import get_backend, read_migrations
from yoyo.migrations import MigrationList

from shared.infra.config import OWNER_ROLE
from shared.infra.dsn import with_parts
from shared.infra.migrations import MIGRATIONS_DIR, apply_functions, migrate
from tests.support.pg import TestDB, clone, drop

BEFORE_FUNCTIONS_HOME = "080_in_progress_timeout"

CATALOG: dict[str, str] = {
    "columns": """SELECT table_name, column_name, data_type, is_nullable, column_default
                    FROM information_schema.columns WHERE table_schema = 'public'""",
    "constraints": """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                       WHERE connamespace = 'public'::regnamespace""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "policies": "SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies",
    "functions": """SELECT n.nspname, p.proname, pg_get_functiondef(p.oid), p.prosecdef, p.proacl::text
                      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname IN ('public', 'iotcloud') AND p.prokind = 'f'""",
    "types": "SELECT typname FROM pg_type WHERE typnamespace = 'iotcloud'::regnamespace AND typtype = 'c'",
    "grants": """SELECT table_name, privilege_type FROM information_schema.role_table_grants
                  WHERE grantee = 'iotcloud_app'""",
    "rls": "SELECT relname, relrowsecurity FROM pg_class WHERE relnamespace = 'public'::regnamespace",
}


def _catalog(url: str) -> dict[str, list[Any]]:
    with psycopg.connect(url) as conn:
        return {k: sorted(map(tuple, conn.execute(q).fetchall()), key=repr) for k, q in CATALOG.items()}


@pytest.fixture
def empty_db(pg_admin: str) -> Iterator[TestDB]:
    from shared.infra.migrations import ensure_database

    name = f"iotcloud_up_{__import__('uuid').uuid4().hex[:10]}"
    ensure_database(pg_admin, name)
    owner = with_parts(pg_admin, user=OWNER_ROLE, database=name)
    yield TestDB(name=name, admin_url=pg_admin, owner_url=owner, app_url=owner)
    drop(name, pg_admin)


def _migrate_to(owner_url: str, last: str) -> None:
    backend = get_backend(with_parts(owner_url, scheme="postgresql+psycopg"))
    try:
        todo = list(read_migrations(str(MIGRATIONS_DIR)))
        upto = [m.id for m in todo].index(last) + 1
        with backend.lock():
            backend.apply_migrations(MigrationList(todo[:upto]))
    finally:
        backend.connection.close()


OLD_DATA = """
INSERT INTO tenants (tenant_id, name) VALUES ('up', 'Upgrade');
INSERT INTO device_state (tenant_id, device_id, name, token_hash)
SELECT 'up', 'd' || i, '', 'h' || i FROM generate_series(1, 3) i;
INSERT INTO jobs (tenant_id, job_id, document_type, target_all, status, execution_count, expires_at,
                  completed_at, canceled_at)
VALUES ('up', 'running', 'fw', true, 'IN_PROGRESS', 3, now() - interval '1 hour', NULL, NULL),
       ('up', 'done', 'fw', true, 'COMPLETED', 1, NULL, now(), NULL),
       ('up', 'stopped', 'fw', true, 'CANCELED', 1, NULL, NULL, now());
INSERT INTO job_executions (tenant_id, job_id, device_id, status, execution_number, started_at)
VALUES ('up', 'running', 'd1', 'QUEUED', 1, NULL), ('up', 'running', 'd2', 'IN_PROGRESS', 2, now()),
       ('up', 'running', 'd3', 'SUCCEEDED', 3, now()), ('up', 'done', 'd1', 'SUCCEEDED', 3, now()),
       ('up', 'stopped', 'd1', 'REJECTED', 2, NULL);
INSERT INTO job_counters (tenant_id, job_id, shard, queued, in_progress, succeeded, rejected)
VALUES ('up', 'running', 0, 1, 1, 1, 0), ('up', 'done', 0, 0, 0, 1, 0), ('up', 'stopped', 0, 0, 0, 0, 1);
INSERT INTO job_execution_events (tenant_id, job_id, device_id, from_status, to_status, actor, execution_number)
VALUES ('up', 'running', 'd2', 'QUEUED', 'IN_PROGRESS', 'device', 2);
"""


def test_an_upgraded_database_keeps_its_data_and_matches_a_fresh_one(
    pg_admin: str, template_db: str, empty_db: TestDB
) -> None:
    _migrate_to(empty_db.owner_url, BEFORE_FUNCTIONS_HOME)
    with psycopg.connect(empty_db.owner_url) as conn:
        conn.execute(OLD_DATA.encode())
    assert migrate(empty_db.owner_url) != []  # 081 and the functions

    fresh = clone(pg_admin, template_db)
    try:
        assert _catalog(empty_db.owner_url) == _catalog(fresh.owner_url)
    finally:
        drop(fresh, pg_admin)

    with psycopg.connect(empty_db.owner_url) as conn:
        rows = conn.execute(
            "SELECT job_id, status, queued_swept_at IS NOT NULL FROM jobs ORDER BY job_id"
        ).fetchall()
        assert rows == [
            ("done", "COMPLETED", True),
            ("running", "IN_PROGRESS", False),
            ("stopped", "CANCELED", True),
        ]
        assert conn.execute("SELECT count(*) FROM job_executions").fetchone() == (5,)
        assert conn.execute("SELECT count(*) FROM job_execution_events").fetchone() == (1,)
        old = conn.execute(
            "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'iot\\_%'"
        ).fetchone()
        assert old == (0,)  # one copy of each function: the one in db/functions


def test_functions_are_reapplied_only_when_they_change(fresh_db: TestDB) -> None:
    assert apply_functions(fresh_db.owner_url) is False  # the template applied these very files
    assert apply_functions(fresh_db.owner_url, force=True) is True
    assert _catalog(fresh_db.owner_url)["functions"]  # and they are all back, grants included
    with psycopg.connect(fresh_db.owner_url) as conn:
        conn.execute("COMMENT ON SCHEMA iotcloud IS 'sha256:older'")
    assert migrate(fresh_db.owner_url) == []  # no migration to apply ...
    with psycopg.connect(fresh_db.owner_url) as conn:  # ... but the changed functions were re-applied
        comment = conn.execute("SELECT obj_description('iotcloud'::regnamespace, 'pg_namespace')").fetchone()
    assert comment is not None and comment[0] != "sha256:older"

"""Who may call the SECURITY DEFINER functions, read from the catalog and compared with the list in
tests/support/schema.py. They run as their owner, past row-level security, so each is a way across
tenants: PUBLIC must not execute any, and each is executable by exactly the roles listed for it. And what
the runtime role may do to each table, compared with the list there too."""

from __future__ import annotations

from shared.infra.config import APP_ROLE, OWNER_ROLE
from shared.infra.db import connect
from tests.support.pg import TestDB
from tests.support.schema import RUNTIME_TABLE_PRIVILEGES, SECURITY_DEFINER_FUNCTIONS

DEFINERS = """
SELECT p.oid::regprocedure::text AS fn,
       pg_get_userbyid(p.proowner) AS owner,
       coalesce(p.proconfig, '{}') AS config,
       -- no ACL at all means the default: EXECUTE for PUBLIC
       p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                    WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_executes,
       coalesce((SELECT array_agg(DISTINCT pg_get_userbyid(a.grantee)) FROM aclexplode(p.proacl) a
                  WHERE a.grantee <> 0 AND a.grantee <> p.proowner AND a.privilege_type = 'EXECUTE'),
                '{}') AS granted_to,
       has_function_privilege($1, p.oid, 'EXECUTE') AS app_executes
  FROM pg_proc p
 WHERE p.prosecdef AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
"""


async def test_security_definer_functions_are_executable_by_exactly_the_intended_roles(
    session_db: TestDB,
) -> None:
    conn = await connect(session_db.owner_url)
    try:
        rows = {r["fn"]: r for r in await conn.fetch(DEFINERS, APP_ROLE)}
    finally:
        await conn.close()
    assert set(rows) == set(SECURITY_DEFINER_FUNCTIONS)  # a new one is listed on purpose, with its callers
    assert [fn for fn, r in rows.items() if r["public_executes"]] == [], "PUBLIC may execute these"
    granted = {fn: frozenset(r["granted_to"]) for fn, r in rows.items()}
    assert granted == SECURITY_DEFINER_FUNCTIONS
    runtime = {fn for fn, r in rows.items() if r["app_executes"]}
    assert runtime == {fn for fn, roles in SECURITY_DEFINER_FUNCTIONS.items() if APP_ROLE in roles}
    for fn, r in rows.items():
        assert r["owner"] == OWNER_ROLE, fn
        # a definer resolves names only where its owner put them, never in a caller's schema
        assert "search_path=public, pg_temp" in r["config"], (fn, r["config"])


TABLE_GRANTS = """
SELECT table_name::text AS table_name, array_agg(privilege_type::text) AS privileges
  FROM information_schema.role_table_grants
 WHERE grantee = $1 AND table_schema = 'public'
 GROUP BY table_name
"""


async def test_the_runtime_role_holds_exactly_the_listed_table_privileges(session_db: TestDB) -> None:
    conn = await connect(session_db.owner_url)
    try:
        rows = await conn.fetch(TABLE_GRANTS, APP_ROLE)
    finally:
        await conn.close()
    assert {r["table_name"]: frozenset(r["privileges"]) for r in rows} == RUNTIME_TABLE_PRIVILEGES

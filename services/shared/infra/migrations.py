"""Database bootstrap (roles, database), forward-only SQL migrations applied with yoyo (tables and data),
and the live SQL functions of db/functions, re-applied whole into the schema `iotcloud` when changed."""

from __future__ import annotations

import hashlib
import logging

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

from shared.infra.assets import db_dir
from shared.infra.config import APP_ROLE, OWNER_ROLE
from shared.infra.dsn import database_of, with_parts

log = logging.getLogger("iotcloud.migrations")

DB_DIR = db_dir()  # the checkout's db/, or the installed wheel's copy
MIGRATIONS_DIR = DB_DIR / "migrations"
FUNCTIONS_DIR = DB_DIR / "functions"
FUNCTIONS_SCHEMA = "iotcloud"  # not a role name: "$user" on the search_path must not find it


def ensure_roles(admin_url: str) -> None:
    """Create the owner role and the runtime role (no BYPASSRLS, owns nothing) if missing."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for role, attrs in ((OWNER_ROLE, "LOGIN"), (APP_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB")):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} " + attrs).format(sql.Identifier(role)))


def ensure_database(admin_url: str, dbname: str, template: str | None = None) -> bool:
    """Create `dbname` owned by the owner role if missing. True when it was created."""
    ensure_roles(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            return False
        stmt = sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
        )
        if template:
            stmt = sql.SQL("{} TEMPLATE {}").format(stmt, sql.Identifier(template))
        conn.execute(stmt)
    with psycopg.connect(with_parts(admin_url, database=dbname), autocommit=True) as conn:
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(dbname)))
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(dbname), sql.Identifier(APP_ROLE)
            )
        )
    return True


def drop_database(admin_url: str, dbname: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def functions_source() -> tuple[bytes, str]:
    """The live functions (db/functions/*.sql in name order) as one script, and its digest."""
    script = b"\n".join(f.read_bytes() for f in sorted(FUNCTIONS_DIR.glob("*.sql")))
    return script, hashlib.sha256(script).hexdigest()


def _applied_digest(conn: psycopg.Connection) -> str | None:
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (FUNCTIONS_SCHEMA,),
    ).fetchone()
    return row[0] if row else None


def apply_functions(owner_url: str, *, force: bool = False) -> bool:
    """Re-creates the schema `iotcloud` from db/functions in one transaction when the files changed since the
    last run (their digest is kept as the schema's comment). True when it did. Runtime grants come from the
    files; PUBLIC gets nothing."""
    script, digest = functions_source()
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('iotcloud.functions'))")
        if not force and _applied_digest(conn) == f"sha256:{digest}":
            return False
        schema = sql.Identifier(FUNCTIONS_SCHEMA)
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, sql.Identifier(APP_ROLE)))
        conn.execute(script)  # the committed files, run as they are
        conn.execute(sql.SQL("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {} FROM PUBLIC").format(schema))
        conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(schema, sql.Literal(f"sha256:{digest}")))
    log.info("applied db/functions to %s", database_of(owner_url))
    return True


def pending(owner_url: str) -> list[str]:
    backend = get_backend(with_parts(owner_url, scheme="postgresql+psycopg"))
    try:
        return [m.id for m in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]
    finally:
        backend.connection.close()


def migrate(owner_url: str) -> list[str]:
    """Apply every migration not yet recorded, then the functions if they changed; returns the migration
    ids applied (empty the second time, when nothing changes at all)."""
    backend = get_backend(with_parts(owner_url, scheme="postgresql+psycopg"))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    try:
        with backend.lock():
            todo = backend.to_apply(migrations)
            ids = [m.id for m in todo]
            if ids:
                log.info("applying migrations to %s: %s", database_of(owner_url), ", ".join(ids))
                backend.apply_migrations(todo)
            apply_functions(owner_url, force=bool(ids))
    finally:
        backend.connection.close()
    return ids

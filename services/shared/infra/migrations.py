"""Database bootstrap (roles, database) and forward-only SQL migrations applied with yoyo."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

from shared.infra.config import APP_ROLE, OWNER_ROLE
from shared.infra.dsn import database_of, with_parts

log = logging.getLogger("iotcloud.migrations")

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "db" / "migrations"


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


def pending(owner_url: str) -> list[str]:
    backend = get_backend(with_parts(owner_url, scheme="postgresql+psycopg"))
    try:
        return [m.id for m in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]
    finally:
        backend.connection.close()


def migrate(owner_url: str) -> list[str]:
    """Apply every migration not yet recorded; returns the ids applied (empty the second time)."""
    backend = get_backend(with_parts(owner_url, scheme="postgresql+psycopg"))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    try:
        with backend.lock():
            todo = backend.to_apply(migrations)
            ids = [m.id for m in todo]
            if ids:
                log.info("applying migrations to %s: %s", database_of(owner_url), ", ".join(ids))
                backend.apply_migrations(todo)
    finally:
        backend.connection.close()
    return ids

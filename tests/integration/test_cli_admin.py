"""`iotcloud create-tenant` and `iotcloud create-user`, run as a user runs them: as processes, with
DATABASE_URL the owner URL of an existing (migrated) database. The rows they write are read back, the
password works for a login, and a mistake gets a clear error (a message naming it, no traceback) and a
non-zero exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.infra.db import connect
from shared.tenants import authenticate
from tests.support.checkout import checkout_env
from tests.support.pg import TestDB

IOTCLOUD = str(Path(sys.executable).parent / "iotcloud")


def iotcloud(
    db: TestDB, home: Path, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IOTCLOUD_", "DATABASE_URL"))}
    env.update(DATABASE_URL=db.owner_url, IOTCLOUD_HOME=str(home))
    if password is not None:
        env["IOTCLOUD_NEW_PASSWORD"] = password
    return subprocess.run(
        [IOTCLOUD, *args],
        env=checkout_env(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    return result.stdout


def clear_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Refused: a non-zero exit code and `message` on stderr, without a Python traceback."""
    assert result.returncode != 0, (result.args, result.stdout)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert message in " ".join(result.stderr.split()), result.stderr[-2000:]


async def _rows(db: TestDB, sql: str, *args: object) -> list[dict[str, object]]:
    owner = await connect(db.owner_url)
    try:
        return [dict(r) for r in await owner.fetch(sql, *args)]
    finally:
        await owner.close()


async def test_create_tenant_writes_the_row_and_is_idempotent(fresh_db: TestDB, tmp_path: Path) -> None:
    assert (
        ok(iotcloud(fresh_db, tmp_path, "create-tenant", "acme", "--name", "Acme Inc"))
        == "tenant acme ready\n"
    )
    assert (
        ok(iotcloud(fresh_db, tmp_path, "create-tenant", "acme")) == "tenant acme ready\n"
    )  # again: no change
    rows = await _rows(fresh_db, "SELECT tenant_id, name FROM tenants")
    assert rows == [{"tenant_id": "acme", "name": "Acme Inc"}]


async def test_create_user_writes_a_user_who_can_log_in(fresh_db: TestDB, tmp_path: Path) -> None:
    ok(iotcloud(fresh_db, tmp_path, "create-tenant", "acme"))
    out = iotcloud(fresh_db, tmp_path, "create-user", "--tenant", "acme", "--email", "Ops@Acme.test",
                   "--role", "operator", password="first-password-1")  # fmt: skip
    assert ok(out) == "user Ops@Acme.test (operator) ready in tenant acme\n"
    rows = await _rows(fresh_db, "SELECT tenant_id, email, role, password_hash FROM users")
    assert [(r["tenant_id"], r["email"], r["role"]) for r in rows] == [("acme", "Ops@Acme.test", "operator")]
    assert "first-password-1" not in str(rows[0]["password_hash"])
    app = await connect(fresh_db.app_url)
    try:
        who = await authenticate(app, "ops@acme.test", "first-password-1")
    finally:
        await app.close()
    assert (who.tenant_id, who.email, who.role) == ("acme", "Ops@Acme.test", "operator")


async def test_create_user_again_resets_password_and_role(fresh_db: TestDB, tmp_path: Path) -> None:
    ok(iotcloud(fresh_db, tmp_path, "create-tenant", "acme"))
    for role, password in (("admin", "first-password-1"), ("viewer", "second-password-2")):
        ok(iotcloud(fresh_db, tmp_path, "create-user", "--tenant", "acme", "--email", "a@acme.test",
                    "--role", role, password=password))  # fmt: skip
    rows = await _rows(fresh_db, "SELECT email, role FROM users")
    assert rows == [{"email": "a@acme.test", "role": "viewer"}]
    app = await connect(fresh_db.app_url)
    try:
        assert (await authenticate(app, "a@acme.test", "second-password-2")).role == "viewer"
    finally:
        await app.close()


async def test_create_user_in_an_unknown_tenant_is_refused(fresh_db: TestDB, tmp_path: Path) -> None:
    result = iotcloud(fresh_db, tmp_path, "create-user", "--tenant", "nope", "--email", "a@nope.test",
                      password="password-123")  # fmt: skip
    clear_error(result, "no tenant 'nope': run `iotcloud create-tenant nope`")
    assert result.returncode == 2
    assert await _rows(fresh_db, "SELECT email FROM users") == []


async def test_create_user_with_a_short_password_is_refused(fresh_db: TestDB, tmp_path: Path) -> None:
    ok(iotcloud(fresh_db, tmp_path, "create-tenant", "acme"))
    result = iotcloud(fresh_db, tmp_path, "create-user", "--tenant", "acme", "--email", "a@acme.test",
                      password="short")  # fmt: skip
    clear_error(result, "the password needs at least 8 characters")
    assert result.returncode == 2
    assert await _rows(fresh_db, "SELECT email FROM users") == []


async def test_create_user_with_an_unknown_role_is_refused_clearly(fresh_db: TestDB, tmp_path: Path) -> None:
    ok(iotcloud(fresh_db, tmp_path, "create-tenant", "acme"))
    result = iotcloud(fresh_db, tmp_path, "create-user", "--tenant", "acme", "--email", "a@acme.test",
                      "--role", "superuser", password="password-123")  # fmt: skip
    assert await _rows(fresh_db, "SELECT email FROM users") == []
    clear_error(result, "role must be one of admin, operator, viewer")


async def test_create_user_with_another_tenants_email_is_refused_clearly(
    fresh_db: TestDB, tmp_path: Path
) -> None:
    for tenant in ("acme", "beta"):
        ok(iotcloud(fresh_db, tmp_path, "create-tenant", tenant))
    ok(iotcloud(fresh_db, tmp_path, "create-user", "--tenant", "acme", "--email", "a@acme.test",
                password="password-123"))  # fmt: skip
    result = iotcloud(fresh_db, tmp_path, "create-user", "--tenant", "beta", "--email", "A@acme.test",
                      password="password-456")  # fmt: skip
    assert await _rows(fresh_db, "SELECT tenant_id FROM users") == [{"tenant_id": "acme"}]
    clear_error(result, "already belongs to another tenant")


async def test_create_tenant_with_an_invalid_id_is_refused_clearly(fresh_db: TestDB, tmp_path: Path) -> None:
    result = iotcloud(fresh_db, tmp_path, "create-tenant", "Bad_ID")
    assert await _rows(fresh_db, "SELECT tenant_id FROM tenants") == []
    clear_error(result, "Bad_ID")

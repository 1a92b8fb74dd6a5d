"""The services through PgBouncer in transaction pooling mode (Debian's `pgbouncer`, which .ci/run installs),
with fewer server connections than clients, so that every server connection serves both tenants in turn. A
tenant setting that outlived its transaction would then show one tenant's rows to the other: it does not,
and every invariant holds. Skipped, saying why, where pgbouncer is not installed."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from ingest_iot.app import create_app as create_device_app
from ops_worker.ticks import default_ticks
from ops_worker.worker import run_tick_locked
from shared.auth import Principal, issue_token
from shared.infra.config import APP_ROLE, Settings
from shared.infra.db import connect, create_pool
from tests.integration.reliability.invariants import check_all
from tests.support.pg import TestDB
from tests.support.servers import LiveServer, free_port
from ui_iot.app import create_app as create_ui_app

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
pytestmark = pytest.mark.skipif(
    PGBOUNCER is None, reason="pgbouncer is not installed (apt install pgbouncer)"
)

SERVER_CONNECTIONS = 2  # per database and user: far fewer than the clients


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def bouncer(fresh_db: TestDB, tmp_path: Path) -> Iterator[str]:
    """A pgbouncer in transaction pooling mode in front of the test database; yields its runtime URL."""
    target = urlsplit(fresh_db.app_url)
    if not target.hostname:
        pytest.skip("the test server is reached by a socket path; pgbouncer here needs host and port")
    port = free_port()
    ini = tmp_path / "pgbouncer.ini"
    ini.write_text(
        f"""[databases]
{fresh_db.name} = host={target.hostname} port={target.port or 5432} dbname={fresh_db.name} user={APP_ROLE}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
"""
    )
    assert PGBOUNCER is not None
    cmd = [PGBOUNCER, str(ini)]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root: it drops to an unprivileged user
        user = next((u for u in ("postgres", "nobody") if _user_exists(u)), None)
        if user is None:
            pytest.skip("running as root with no unprivileged user for pgbouncer")
        ini.chmod(0o644)
        cmd = [PGBOUNCER, "-u", user, str(ini)]
    log = (tmp_path / "pgbouncer.log").open(
        "wb"
    )  # its log on stderr, into a file opened before it drops root
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "pgbouncer.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield f"postgresql://{APP_ROLE}@127.0.0.1:{port}/{fresh_db.name}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture
async def apps(bouncer: str, settings: Settings) -> AsyncIterator[tuple[str, str, Settings]]:
    pooled = settings.model_copy(update={"database_pooler": "pgbouncer", "pool_max": 6})
    ui = await LiveServer(create_ui_app(pooled, bouncer)).start()
    device = await LiveServer(create_device_app(pooled, bouncer)).start()
    try:
        yield ui.url, device.url, pooled
    finally:
        await device.stop()
        await ui.stop()


async def _tenant(owner: asyncpg.Connection, tenant_id: str, secret: str) -> dict[str, str]:
    await owner.execute("INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)", tenant_id)
    user_id = await owner.fetchval(
        "INSERT INTO users (tenant_id, email, password_hash, role) VALUES ($1, $2, 'x', 'admin') RETURNING user_id",
        tenant_id,
        f"admin@{tenant_id}.test",
    )
    principal = Principal(
        tenant_id=tenant_id, user_id=str(user_id), email=f"admin@{tenant_id}.test", role="admin"
    )
    return {"Authorization": f"Bearer {issue_token(principal, secret, 3600)}"}


async def _fleet(ui: str, auth: dict[str, str], prefix: str, n: int) -> dict[str, str]:
    tokens = {}
    async with httpx.AsyncClient(base_url=ui, headers=auth, timeout=30) as api:
        for i in range(n):
            r = await api.post("/customer/devices", json={"device_id": f"{prefix}-{i}"})
            assert r.status_code == 201, r.text
            tokens[f"{prefix}-{i}"] = r.json()["provision_token"]
        r = await api.post(
            "/customer/jobs", json={"job_id": f"{prefix}-job", "document_type": "fw", "target_all": True}
        )
        assert r.status_code == 201, r.text
    return tokens


async def test_two_tenants_through_transaction_pooling_never_see_each_other(
    apps: tuple[str, str, Settings], fresh_db: TestDB, bouncer: str
) -> None:
    ui, device, settings = apps
    owner = await connect(fresh_db.owner_url)
    try:
        auth = {t: await _tenant(owner, t, settings.signing_secret()) for t in ("pa", "pb")}
    finally:
        await owner.close()
    fleets = {t: await _fleet(ui, auth[t], t, 12) for t in auth}

    async def work(tenant: str, device_id: str, token: str) -> None:
        async with httpx.AsyncClient(base_url=device, headers={"X-Provision-Token": token}, timeout=30) as d:
            pending = (await d.get("/device/v1/jobs/pending")).json()["jobs"]
            assert [j["job_id"] for j in pending] == [f"{tenant}-job"], pending  # never the other tenant's
            for status in ("IN_PROGRESS", "SUCCEEDED"):
                r = await d.put(f"/device/v1/jobs/{tenant}-job/execution", json={"status": status})
                assert r.status_code == 200, r.text

    async def reads(tenant: str) -> None:
        other = "pb" if tenant == "pa" else "pa"
        async with httpx.AsyncClient(base_url=ui, headers=auth[tenant], timeout=30) as api:
            for _ in range(10):
                devices = (await api.get("/customer/devices?limit=100")).json()["devices"]
                assert devices and all(d["device_id"].startswith(tenant) for d in devices)
                assert (await api.get(f"/customer/jobs/{other}-job")).status_code == 404

    await asyncio.gather(
        *(work(t, d, tok) for t, fleet in fleets.items() for d, tok in fleet.items()),
        *(reads(t) for t in fleets for _ in range(3)),
    )

    # nothing of a tenant's transaction is left on the server connections the others use next
    pool = await create_pool(bouncer, min_size=1, max_size=4, transaction_pooler=True)
    try:
        left: list[Any] = await asyncio.gather(
            *(pool.fetchval("SELECT current_setting('app.tenant_id', true)") for _ in range(20))
        )
        assert set(left) <= {None, ""}, left
        # the worker's tick lock is a transaction's: it works through the pooler, once at a time
        tick = next(t for t in default_ticks(60) if t.name == "jobs_expiry")
        later = datetime.now(UTC) + timedelta(hours=1)
        assert await run_tick_locked(pool, tick, later)
        assert await pool.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
    finally:
        await pool.close()
    owner = await connect(fresh_db.owner_url)
    try:
        await check_all(owner)
        done = await owner.fetch("SELECT job_id, status FROM jobs ORDER BY job_id")
        assert [(r["job_id"], r["status"]) for r in done] == [
            ("pa-job", "COMPLETED"),
            ("pb-job", "COMPLETED"),
        ]
    finally:
        await owner.close()

"""Health and readiness: /ready says 503 and names the failing dependency (the database unreachable, a
migration not applied), requests get a clear 503 JSON."""

import httpx

from ingest_iot.app import create_app as create_device_app
from shared.infra.config import Settings
from shared.infra.db import connect
from shared.web.readiness import newest_migration
from tests.support.pg import TestDB
from tests.support.servers import LiveServer, free_port
from ui_iot.app import create_app as create_ui_app


async def test_ready_and_requests_answer_503_without_database(settings: Settings) -> None:
    dead = f"postgresql://iotcloud_app@127.0.0.1:{free_port()}/iotcloud"
    ui = await LiveServer(create_ui_app(settings, dead)).start()
    device = await LiveServer(create_device_app(settings, dead)).start()
    try:
        async with httpx.AsyncClient(timeout=30) as c:
            for base in (ui.url, device.url):
                assert (await c.get(f"{base}/health")).json() == {"status": "ok"}
                r = await c.get(f"{base}/ready")
                assert r.status_code == 503
                assert r.json() == {
                    "status": "unavailable",
                    "database": "unreachable",
                    "migrations": "unknown",
                    "failing": ["database"],
                }
            r = await c.post(f"{ui.url}/auth/token", data={"username": "a@b.c", "password": "x"})
            assert r.status_code == 503 and r.json()["error"] == "unavailable"
            r = await c.get(f"{device.url}/device/v1/jobs/pending", headers={"X-Provision-Token": "tok-x"})
            assert r.status_code == 503 and r.json()["error"] == "unavailable"
    finally:
        await ui.stop()
        await device.stop()


async def test_ready_when_database_answers(services: object) -> None:
    from tests.conftest import Services

    assert isinstance(services, Services)
    async with httpx.AsyncClient() as c:
        ready = {"status": "ready", "database": "ok", "migrations": "current", "failing": []}
        assert (await c.get(f"{services.ui.url}/ready")).json() == ready
        assert (await c.get(f"{services.device.url}/ready")).status_code == 200


async def test_ready_names_a_pending_migration(fresh_db: TestDB, settings: Settings) -> None:
    """A database behind this code (its newest migration not applied, as before `iotcloud migrate`)."""
    owner = await connect(fresh_db.owner_url)
    try:
        await owner.execute("DELETE FROM _yoyo_migration WHERE migration_id = $1", newest_migration())
    finally:
        await owner.close()
    device = await LiveServer(create_device_app(settings, fresh_db.app_url)).start()
    try:
        async with httpx.AsyncClient(timeout=30) as c:
            r = await c.get(f"{device.url}/ready")
        assert r.status_code == 503
        assert r.json() == {
            "status": "unavailable",
            "database": "ok",
            "migrations": "pending",
            "failing": ["migrations"],
        }
    finally:
        await device.stop()


def test_signing_secret_is_generated_once(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    s = Settings(home=tmp_path / "home")
    first = s.signing_secret()
    assert len(first) >= 32 and (tmp_path / "home" / "secret").stat().st_mode & 0o777 == 0o600
    assert Settings(home=tmp_path / "home").signing_secret() == first
    assert Settings(home=tmp_path / "home", secret="given").signing_secret() == "given"

"""Authentication and authorization: forged, expired and orphaned JWTs get 401, a viewer's writes 403;
provision tokens are stored only as hashes, revocation bites at once, bad-token floods get 429; and no
secret shows up in the services' logs, even at DEBUG."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import jwt

from ingest_iot.app import create_app as create_device_app
from shared.auth import JWT_AUDIENCE, Principal, issue_token
from shared.infra.config import Settings
from shared.infra.db import connect
from tests.conftest import TEST_SECRET
from tests.integration.reliability.accounts import PASSWORD, Account, add_user, create_devices, new_tenant
from tests.integration.reliability.conftest import Apps
from tests.integration.reliability.logwatch import WATCH
from tests.integration.reliability.procs import ServiceProc, service_env
from tests.integration.reliability.snapshot import tenant_state
from tests.integration.reliability.tally import client
from tests.integration.reliability.test_isolation import BODIES
from tests.support.pg import TestDB
from tests.support.servers import LiveServer


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _hs512(claims: dict[str, Any]) -> str:
    with warnings.catch_warnings():  # PyJWT warns that the test secret is short for SHA-512
        warnings.simplefilter("ignore")
        return jwt.encode(claims, TEST_SECRET, algorithm="HS512")


def forged_tokens(acct: Account, victim_tenant: str) -> dict[str, str]:
    claims = jwt.decode(acct.jwt, TEST_SECRET, algorithms=["HS256"], audience=JWT_AUDIENCE)
    header, _, sig = acct.jwt.split(".")
    principal = Principal(acct.tenant_id, acct.user_id, acct.email, acct.role)
    return {
        "expired": issue_token(principal, TEST_SECRET, 60, now=time.time() - 3600),
        "wrong signature": issue_token(principal, "another-secret-" + "y" * 40, 3600),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg none, no dot": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}",
        "tampered tenant": f"{header}.{_b64(claims | {'tid': victim_tenant})}.{sig}",
        "tampered role": f"{header}.{_b64(claims | {'role': 'admin'})}.{sig}",
        "wrong audience": jwt.encode(claims | {"aud": "someone-else"}, TEST_SECRET, algorithm="HS256"),
        "HS512 same secret": _hs512(claims),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, TEST_SECRET, algorithm="HS256"),
        "garbage": "not.a.jwt",
    }


async def test_bad_jwts_get_401_and_a_deleted_user_too(apps: Apps) -> None:
    victim = await new_tenant(apps.db, TEST_SECRET)
    acct = await new_tenant(apps.db, TEST_SECRET, role="viewer")
    async with client(apps.ui.url) as api:
        assert (await api.get("/auth/me", headers=acct.auth)).status_code == 200
        for name, token in forged_tokens(acct, victim.tenant_id).items():
            for method, path in (
                ("GET", "/auth/me"),
                ("GET", "/customer/devices"),
                ("POST", "/customer/devices"),
            ):
                r = await api.request(method, path, headers={"Authorization": f"Bearer {token}"}, json={})
                assert r.status_code == 401, f"{name}: {method} {path} -> {r.status_code} {r.text}"
                assert r.json()["error"] == "unauthorized" and r.headers["www-authenticate"] == "Bearer"
        gone = await add_user(apps.db, acct.tenant_id, "admin", TEST_SECRET)
        assert (await api.get("/customer/devices", headers=gone.auth)).status_code == 200
        owner = await connect(apps.db.owner_url)
        try:
            await owner.execute("DELETE FROM users WHERE user_id = $1", gone.user_id)
        finally:
            await owner.close()
        for method, path in (
            ("GET", "/customer/devices"),
            ("POST", "/customer/devices"),
            ("GET", "/auth/me"),
        ):
            r = await api.request(method, path, headers=gone.auth, json={"device_id": "late"})
            assert r.status_code == 401, f"deleted user: {method} {path} -> {r.status_code}"


# What a viewer may do besides reading: make and revoke AWS access keys of their own, which carry the viewer's
# role (read-only on the AWS API too; tests/integration/test_aws_control_plane.py checks a viewer's key).
VIEWER_MAY = {
    ("POST", "/customer/access-keys"),
    ("POST", "/customer/access-keys/{access_key_id}/revoke"),
}


async def test_viewer_writes_get_403_and_change_nothing(apps: Apps) -> None:
    admin = await new_tenant(apps.db, TEST_SECRET)
    await create_devices(admin, apps.ui.url, 1, prefix="v")
    async with client(apps.ui.url, headers=admin.auth) as api:
        assert (await api.post("/customer/groups", json={"group_id": "gv", "name": "v"})).status_code == 201
        r = await api.post(
            "/customer/jobs", json={"job_id": "jv", "document_type": "ota", "target_all": True}
        )
        assert r.status_code == 201
    viewer = await add_user(apps.db, admin.tenant_id, "viewer", TEST_SECRET)
    ids = {
        "device_id": "v-00000",
        "group_id": "gv",
        "job_id": "jv",
        "name": "fw-v.bin",
        "user_id": viewer.user_id,
        "template_id": "tv",
    }
    create_bodies = {
        "/customer/devices": {"device_id": "v-new"},
        "/customer/groups": {"group_id": "g-new", "name": "n"},
        "/customer/jobs": {"document_type": "ota", "target_all": True},
    }
    before = await tenant_state(apps.db.owner_url, admin.tenant_id)
    writes = 0
    async with client(apps.ui.url, headers=viewer.auth) as api:
        for path, item in apps.ui.app.openapi()["paths"].items():
            if not path.startswith("/customer"):
                continue
            for method in item:
                if method == "get" or (method.upper(), path) in VIEWER_MAY:
                    continue
                url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
                body = BODIES.get((method.upper(), path), create_bodies.get(path))
                r = await api.request(method.upper(), url, json=body)
                assert r.status_code == 403, f"viewer {method.upper()} {url} -> {r.status_code} {r.text}"
                assert r.json()["error"] == "forbidden"
                writes += 1
        assert (await api.get("/customer/jobs/jv")).status_code == 200  # reading is allowed
    assert writes >= 10
    assert await tenant_state(apps.db.owner_url, admin.tenant_id) == before


async def test_provision_tokens_hashed_revoked_at_once_and_rate_limited(
    apps: Apps, account: Account, settings: Settings
) -> None:
    devices = await create_devices(account, apps.ui.url, 3, prefix="p")
    owner = await connect(apps.db.owner_url)
    try:
        dump = await owner.fetchval(
            "SELECT string_agg(to_jsonb(d)::text, ' ') FROM device_state d WHERE tenant_id = $1",
            account.tenant_id,
        )
        hashes = dict(
            await owner.fetch(
                "SELECT device_id, token_hash FROM device_state WHERE tenant_id = $1", account.tenant_id
            )
        )
    finally:
        await owner.close()
    for d in devices:
        assert account.tokens[d] not in dump, "a provision token is stored in clear"
        assert hashes[d] == hashlib.sha256(account.tokens[d].encode()).hexdigest()

    async with client(apps.ui.url, headers=account.auth) as api, client(apps.device.url) as dev:

        def as_device(d: str, token: str | None = None) -> dict[str, str]:
            return {"X-Provision-Token": token or account.tokens[d]}

        assert (await dev.get("/device/v1/shadow", headers=as_device("p-00000"))).status_code == 200
        assert (await api.post("/customer/devices/p-00000/revoke")).status_code == 200
        r = await dev.get("/device/v1/shadow", headers=as_device("p-00000"))
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        old = account.tokens["p-00001"]
        r = await api.post("/customer/devices/p-00001/rotate-token")
        assert r.status_code == 200
        new = WATCH.secret(r.json()["provision_token"])
        assert (await dev.get("/device/v1/shadow", headers=as_device("p-00001", old))).status_code == 401
        assert (await dev.get("/device/v1/shadow", headers=as_device("p-00001", new))).status_code == 200

    # A device API with the production limit (the shared test settings lift it for load tests), reached from
    # an address of this test's own (the failures are counted in the database, shared by every test).
    limited = create_device_app(
        settings.model_copy(update={"device_auth_failures_per_minute": 30}), apps.db.app_url
    )
    server = await LiveServer(limited).start()
    address = f"127.0.{random.randint(1, 254)}.{random.randint(1, 254)}"
    try:
        async with client(server.url, transport=httpx.AsyncHTTPTransport(local_address=address)) as dev:
            assert (await dev.get("/device/v1/shadow", headers={"X-Provision-Token": new})).status_code == 200
            statuses = []
            for i in range(40):
                r = await dev.get(
                    "/device/v1/jobs/pending", headers={"X-Provision-Token": f"tok-guess-{i:04d}"}
                )
                statuses.append(r.status_code)
            assert 429 in statuses, statuses
            first = statuses.index(429)
            assert first == 30 and set(statuses[:first]) == {401} and set(statuses[first:]) == {429}, statuses
            assert r.json()["error"] == "rate_limited"
            # the block is on bad tokens from the flooding address; a valid token from there still works
            # (devices behind one carrier NAT share an address: tests/integration/test_rate_limits.py)
            assert (await dev.get("/device/v1/shadow", headers={"X-Provision-Token": new})).status_code == 200
    finally:
        await server.stop()
    print(f"\nprovision tokens: 429 after {first} bad tokens")


async def test_no_secret_in_service_logs_even_at_debug(session_db: TestDB, tmp_path: Path) -> None:
    """The services run as processes at DEBUG while they are handed every kind of secret, good and bad; the
    operator API logs JSON lines (access lines included), the device API text lines: both are scanned."""
    env = service_env(session_db.owner_url, TEST_SECRET, tmp_path)
    debug = ("--log-level", "DEBUG")
    ui = ServiceProc("ui", "ui-debug", env, tmp_path, debug)
    device = ServiceProc("device", "device-debug", {**env, "IOTCLOUD_LOG_FORMAT": "text"}, tmp_path, debug)
    for p in (ui, device):
        p.start()
    try:
        await ui.ready()
        await device.ready()
        acct = await new_tenant(session_db, TEST_SECRET)
        [d] = await create_devices(acct, ui.url, 1, prefix="log")
        async with client(ui.url) as api, client(device.url) as dev:
            r = await api.post("/auth/token", data={"username": acct.email, "password": PASSWORD})
            assert r.status_code == 200
            WATCH.secret(r.json()["access_token"])
            wrong = WATCH.secret("wrong-password-" + "z" * 12)
            r = await api.post("/auth/token", data={"username": acct.email, "password": wrong})
            assert r.status_code == 401
            forged = WATCH.secret(forged_tokens(acct, "t-x")["tampered tenant"])
            assert (
                await api.get("/customer/devices", headers={"Authorization": f"Bearer {forged}"})
            ).status_code == 401
            assert (await api.get("/customer/devices", headers=acct.auth)).status_code == 200
            r = await api.post(f"/customer/devices/{d}/rotate-token", headers=acct.auth)
            token = WATCH.secret(r.json()["provision_token"])
            assert (
                await dev.get("/device/v1/shadow", headers={"X-Provision-Token": token})
            ).status_code == 200
            bad = WATCH.secret("tok-" + "q" * 30)
            assert (await dev.get("/device/v1/shadow", headers={"X-Provision-Token": bad})).status_code == 401
            r = await dev.put(
                "/device/v1/jobs/x/execution", headers={"X-Provision-Token": token}, content=b"{bad"
            )
            assert r.status_code == 422
            long_token = WATCH.secret("tok-" + "L" * 600)  # too long: a validation error, not an echo
            r = await dev.get("/device/v1/shadow", headers={"X-Provision-Token": long_token})
            assert 400 <= r.status_code < 500
            assert long_token not in r.text and PASSWORD not in r.text
    finally:
        ui.stop()
        device.stop()
    for p in (ui, device):  # DEBUG records in each log: the level took effect, so debug logging was scanned
        debug_line = r'^\S+ DEBUG |^\{.*"level":"DEBUG"'
        assert re.search(debug_line, p.log_text(), re.MULTILINE), f"{p.name} did not log at DEBUG"
    assert '"logger":"iotcloud.access"' in ui.log_text()  # JSON logs come with access lines
    leaks = WATCH.leaks()
    assert not leaks, leaks

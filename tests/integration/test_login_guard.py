"""The operator login guard over real HTTP: failed logins locked out per account and per client address
(429 with Retry-After, the password not even checked), the lockout shared by two replicas on one database,
a success clearing the account's count, the clock moved instead of slept; and the bound on password checks
at once per process, measured while many wrong logins arrive together."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

import shared.login_guard
from shared.auth import verify_password
from shared.infra.config import Settings
from shared.infra.db import SET_TENANT, connect
from shared.tenants import create_tenant, upsert_user
from tests.support.pg import TestDB
from tests.support.servers import LiveServer
from ui_iot.app import create_app as create_ui_app

PASSWORD = "right-password-1"
WINDOW = 900
PER_ACCOUNT = 5
PER_ADDRESS = 12


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 6, 1, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Checks:
    """Counts the password checks (the hash function, in its threads) and the most that ran at once."""

    calls: int = 0
    running: int = 0
    peak: int = 0
    extra_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, password_hash: str | None, password: str) -> bool:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            if self.extra_seconds:
                time.sleep(self.extra_seconds)
            return verify_password(password_hash, password)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Checks]:
    counter = Checks()
    monkeypatch.setattr(shared.login_guard, "verify_password", counter)
    yield counter


@dataclass
class Guarded:
    db: TestDB
    clock: Clock
    replicas: list[LiveServer]
    email: str

    def client(self, replica: int = 0, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        return httpx.AsyncClient(base_url=self.replicas[replica].url, transport=transport, timeout=60)

    async def attempts(self, scope: str, key: str) -> int | None:
        owner = await connect(self.db.owner_url)
        try:
            value: int | None = await owner.fetchval(
                "SELECT attempts FROM login_attempts WHERE scope = $1 AND key = $2", scope, key
            )
            return value
        finally:
            await owner.close()


async def add_operator(db: TestDB) -> str:
    tenant_id = f"t-{uuid.uuid4().hex[:10]}"
    owner = await connect(db.owner_url)
    try:
        await create_tenant(owner, tenant_id, tenant_id)
    finally:
        await owner.close()
    app = await connect(db.app_url)
    try:
        async with app.transaction():
            await app.execute(SET_TENANT, tenant_id)
            user = await upsert_user(app, tenant_id, f"Ops@{tenant_id}.test", PASSWORD, "operator")
    finally:
        await app.close()
    return str(user["email"])


async def start_guarded(db: TestDB, settings: Settings, replicas: int = 1, **limits: Any) -> Guarded:
    """`replicas` operator APIs on `db` with the guard's limits, all reading one clock."""
    tuned = settings.model_copy(
        update={
            "login_failures_per_account": PER_ACCOUNT,
            "login_failures_per_address": PER_ADDRESS,
            "login_failure_window_seconds": WINDOW,
            **limits,
        }
    )
    clock = Clock()
    servers = []
    for _ in range(replicas):
        app = create_ui_app(tuned, db.app_url)
        app.state.clock = clock
        servers.append(await LiveServer(app).start())
    return Guarded(db, clock, servers, await add_operator(db))


@pytest.fixture
async def guarded(fresh_db: TestDB, settings: Settings) -> AsyncIterator[Guarded]:
    g = await start_guarded(fresh_db, settings, replicas=2)
    yield g
    for server in g.replicas:
        await server.stop()


async def log_in(c: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await c.post("/auth/token", data={"username": email, "password": password})


def assert_locked_out(r: httpx.Response, retry_after: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["retry-after"] == str(retry_after)
    body = r.json()
    assert body["error"] == "rate_limited" and body["retry_after"] == retry_after, body
    assert "detail" in body


async def test_an_account_is_locked_out_after_n_failures_then_let_in_after_the_window(
    guarded: Guarded, checks: Checks
) -> None:
    g = guarded
    async with g.client() as c:
        for _ in range(PER_ACCOUNT):
            r = await log_in(c, g.email, "wrong")
            assert r.status_code == 401 and r.json()["error"] == "unauthorized"
            g.clock.advance(10)
        assert checks.calls == PER_ACCOUNT
        # the 5th failure, 10 s ago, locked the account for a window
        assert_locked_out(await log_in(c, g.email, "wrong"), WINDOW - 10)
        assert_locked_out(await log_in(c, g.email, PASSWORD), WINDOW - 10)  # even the right password
        assert_locked_out(await log_in(c, g.email.upper(), PASSWORD), WINDOW - 10)  # any case of the e-mail
        assert checks.calls == PER_ACCOUNT, "a locked-out login had its password checked"
        g.clock.advance(WINDOW - 11)
        assert_locked_out(await log_in(c, g.email, PASSWORD), 1)
        g.clock.advance(1)
        r = await log_in(c, g.email, PASSWORD)
        assert r.status_code == 200, r.text
        assert r.json()["email"] == g.email


async def test_unknown_e_mails_are_counted_and_checked_like_known_ones(
    guarded: Guarded, checks: Checks
) -> None:
    g = guarded
    unknown = f"nobody-{uuid.uuid4().hex[:6]}@nowhere.test"
    async with g.client() as c:
        for email in (unknown, g.email):
            for _ in range(PER_ACCOUNT):
                assert (await log_in(c, email, "wrong")).status_code == 401
            assert_locked_out(await log_in(c, email, "wrong"), WINDOW)
    assert checks.calls == 2 * PER_ACCOUNT  # the unknown e-mail cost a password check each time too


async def test_a_success_clears_the_accounts_count(guarded: Guarded, checks: Checks) -> None:
    g = guarded
    async with g.client() as c:
        for _ in range(PER_ACCOUNT - 1):
            assert (await log_in(c, g.email, "wrong")).status_code == 401
        assert await g.attempts("account", g.email.lower()) == PER_ACCOUNT - 1
        assert (await log_in(c, g.email, PASSWORD)).status_code == 200
        assert await g.attempts("account", g.email.lower()) is None
        # a fresh count: again N failures before the lockout
        for _ in range(PER_ACCOUNT):
            assert (await log_in(c, g.email, "wrong")).status_code == 401
        assert_locked_out(await log_in(c, g.email, PASSWORD), WINDOW)
    # the address counted the failures only: the success was taken back
    assert await g.attempts("address", "127.0.0.1") == 2 * PER_ACCOUNT - 1


async def test_an_address_is_throttled_across_accounts(guarded: Guarded, checks: Checks) -> None:
    g = guarded
    async with g.client() as c, g.client(address="127.0.0.2") as other:
        for i in range(PER_ADDRESS):  # a different e-mail each time: no account reaches its limit
            assert (await log_in(c, f"guess-{i}@nowhere.test", "wrong")).status_code == 401
        assert_locked_out(await log_in(c, "guess-new@nowhere.test", "wrong"), WINDOW)
        assert_locked_out(await log_in(c, g.email, PASSWORD), WINDOW)  # its operator too, from there
        r = await log_in(other, g.email, PASSWORD)  # but not from another address
        assert r.status_code == 200, r.text
        g.clock.advance(WINDOW)
        assert (await log_in(c, g.email, PASSWORD)).status_code == 200
    assert checks.calls == PER_ADDRESS + 2


async def test_two_replicas_share_the_count_and_the_lockout(guarded: Guarded) -> None:
    g = guarded
    async with g.client(0) as a, g.client(1) as b:
        for i in range(PER_ACCOUNT):
            assert (await log_in(a if i % 2 else b, g.email, "wrong")).status_code == 401
        assert_locked_out(await log_in(a, g.email, PASSWORD), WINDOW)
        assert_locked_out(await log_in(b, g.email, PASSWORD), WINDOW)
        g.clock.advance(WINDOW)
        assert (await log_in(b, g.email, "wrong")).status_code == 401  # a new window, on either replica
        assert await g.attempts("account", g.email.lower()) == 1
        assert (await log_in(a, g.email, PASSWORD)).status_code == 200
        assert await g.attempts("account", g.email.lower()) is None


async def test_concurrent_wrong_logins_never_check_more_passwords_at_once_than_the_bound(
    fresh_db: TestDB, settings: Settings, checks: Checks
) -> None:
    bound, burst = 2, 48
    g = await start_guarded(
        fresh_db,
        settings,
        login_failures_per_account=10_000,
        login_failures_per_address=10_000,
        password_checks_at_once=bound,
        password_check_wait_seconds=120,
    )
    try:
        async with g.client() as c:
            answers = await asyncio.gather(*(log_in(c, g.email, f"wrong-{i}") for i in range(burst)))
        assert [r.status_code for r in answers] == [401] * burst
        assert checks.calls == burst
        assert checks.peak == bound, f"{checks.peak} password checks ran at once"
        gate = g.replicas[0].app.state.password_gate
        assert (gate.peak, gate.running) == (bound, 0)
    finally:
        await g.replicas[0].stop()


async def test_a_login_that_waits_too_long_for_its_turn_gets_503_and_is_not_counted(
    fresh_db: TestDB, settings: Settings, checks: Checks
) -> None:
    checks.extra_seconds = 1.0
    g = await start_guarded(fresh_db, settings, password_checks_at_once=1, password_check_wait_seconds=0.2)
    try:
        async with g.client() as c:
            answers = await asyncio.gather(*(log_in(c, g.email, "wrong") for _ in range(3)))
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [401, 503, 503], statuses
        for r in answers:
            if r.status_code == 503:
                assert r.headers["retry-after"] == "1" and r.json()["error"] == "unavailable"
        assert checks.calls == 1
        assert await g.attempts("account", g.email.lower()) == 1  # only the judged failure counts
        assert await g.attempts("address", "127.0.0.1") == 1
    finally:
        await g.replicas[0].stop()


async def test_the_runtime_role_reaches_the_counts_only_through_the_guards_functions(
    fresh_db: TestDB,
) -> None:
    app = await connect(fresh_db.app_url)
    try:
        for statement in (
            "SELECT * FROM login_attempts",
            "DELETE FROM login_attempts",
            "INSERT INTO login_attempts VALUES ('account', 'x', 0, now())",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(statement)
    finally:
        await app.close()

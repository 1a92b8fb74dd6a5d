"""Operator login guard (docs/operations.md): failed logins are counted per account (e-mail, case-insensitive)
and per client address in PostgreSQL, so that every replica of the operator API shares the counts; past a
limit the login is refused with 429 and Retry-After before its password is looked at. And each process
checks at most a few passwords at once (argon2 takes 64 MiB each), so a burst of logins queues instead of
taking the memory with it; a login that waits too long for its turn gets 503 with Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from shared.auth import Principal, hash_password, verify_password
from shared.errors import TooManyRequests, Unauthorized, Unavailable
from shared.infra.config import Settings
from shared.infra.db import tx
from shared.tenants import DISABLED, LOGIN_LOOKUP

LOGIN_ATTEMPT = "SELECT iotcloud.login_attempt($1, $2, $3, $4, $5, $6)"
LOGIN_RELEASE = "SELECT iotcloud.login_release($1, $2, $3, $4, $5)"
T = TypeVar("T")
BUSY_RETRY_AFTER = 1  # seconds, told to a login that waited too long for its turn


@dataclass(frozen=True, slots=True)
class LoginLimits:
    per_account: int
    per_address: int
    window_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> LoginLimits:
        return cls(
            settings.login_failures_per_account,
            settings.login_failures_per_address,
            settings.login_failure_window_seconds,
        )


class PasswordGate:
    """At most `size` password checks (or hashes of new passwords) at once, in threads; a caller waits for
    its turn at most
    `wait_seconds`, then gets 503. `running` and `peak` say how many run now and ran at most at once."""

    def __init__(self, size: int, wait_seconds: float) -> None:
        self.size = size
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(size)
        self.running = 0
        self.peak = 0

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await self._run(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        """A new password's hash (users created over the API), under the same bound."""
        return await self._run(hash_password, password)

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise Unavailable(
                "too many passwords are being checked at once, retry later", retry_after=BUSY_RETRY_AFTER
            ) from None
        self.running += 1
        self.peak = max(self.peak, self.running)
        check = asyncio.ensure_future(asyncio.to_thread(work, *args))
        check.add_done_callback(self._done)  # the slot is held until the thread ends, even if we are canceled
        return await asyncio.shield(check)

    def _done(self, _: asyncio.Future[Any]) -> None:
        self.running -= 1
        self._slots.release()


async def check_login(
    pool: asyncpg.Pool,
    gate: PasswordGate,
    limits: LoginLimits,
    *,
    email: str,
    password: str,
    address: str,
    now: datetime,
) -> Principal:
    """The operator whose e-mail and password these are; 401 when they are not, 429 (with nothing checked)
    while the account or the address is locked out. An unknown e-mail costs a password check too, and is
    counted and locked out like a known one, so neither the time nor the answer tells them apart."""
    async with tx(pool) as conn:
        wait = await conn.fetchval(
            LOGIN_ATTEMPT, email, address, now, limits.per_account, limits.per_address, limits.window_seconds
        )
    if wait is not None:
        raise TooManyRequests(
            "too many failed logins for this account or from this address, retry later", retry_after=wait
        )
    outcome = "unjudged"
    try:
        async with tx(pool) as conn:
            row = await conn.fetchrow(LOGIN_LOOKUP, email)
        ok = await gate.verify(row["password_hash"] if row else None, password)
        if row is None or not ok:
            outcome = "failed"
            raise Unauthorized("incorrect e-mail or password")
        if row["disabled"]:  # said only to whoever knows the password
            outcome = "failed"
            raise Unauthorized(DISABLED)
        outcome = "succeeded"
        return Principal(
            tenant_id=row["tenant_id"], user_id=row["user_id"], email=row["email"], role=row["role"]
        )
    finally:
        # a failure stays counted; a success, or a login never judged (busy, database gone), is taken back
        if outcome != "failed":
            async with tx(pool) as conn:
                await conn.execute(
                    LOGIN_RELEASE,
                    email,
                    address,
                    outcome == "succeeded",
                    limits.per_account,
                    limits.per_address,
                )

"""Rate limits shared by every replica (docs/operations.md "Rate limits"): fixed-window counters in
PostgreSQL, one row per key, counted by one upsert (db/functions/080_limits.sql). Three uses:

- the device API, per device and per tenant: one extra statement per request, and none when both limits are
  off (the default);
- the operator API, per user: one extra statement per authenticated request, none when off (the default);
- the device API's bad-token limiter, per client address: counted only once a token has failed, so a valid
  token is never refused by it (devices behind one carrier NAT share an address), while an address that keeps
  presenting bad tokens gets 429 instead of 401 until its window ends.

Each returns None to go ahead, or raises TooManyRequests with Retry-After (seconds to the window's end)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import TooManyRequests
from shared.infra.config import Settings

DEVICE_RATE_HIT = "SELECT iotcloud.device_rate_hit($1, $2, $3, $4, $5)"
USER_RATE_HIT = "SELECT iotcloud.user_rate_hit($1, $2, $3, $4)"
AUTH_FAILURE = "SELECT iotcloud.auth_failure($1, $2, $3, $4)"

AUTH_FAILURE_WINDOW = 60  # seconds: device_auth_failures_per_minute


@dataclass(frozen=True, slots=True)
class RateLimits:
    per_device: int  # device API requests per window and device (0: no limit)
    per_tenant: int  # device API requests per window and tenant, all its devices together (0: no limit)
    per_user: int  # operator API requests per window and user (0: no limit)
    window_seconds: int
    auth_failures_per_minute: int  # bad device tokens per client address

    @classmethod
    def of(cls, settings: Settings) -> RateLimits:
        return cls(
            settings.device_requests_per_device,
            settings.device_requests_per_tenant,
            settings.operator_requests_per_user,
            settings.rate_limit_window_seconds,
            settings.device_auth_failures_per_minute,
        )

    @property
    def devices_limited(self) -> bool:
        return self.per_device > 0 or self.per_tenant > 0


def limits_of(state: Any) -> RateLimits:
    """The limits of an app (its `state`), read from its settings on first use."""
    limits: RateLimits | None = getattr(state, "rate_limits", None)
    if limits is None:
        limits = state.rate_limits = RateLimits.of(state.settings)
    return limits


async def check_device(pool: asyncpg.Pool, limits: RateLimits, token_hash: str, now: datetime) -> None:
    """Counts a device API request of the device whose token hashes to `token_hash` (an unknown token counts
    nothing: the call itself refuses it)."""
    if not limits.devices_limited:
        return
    wait = await pool.fetchval(
        DEVICE_RATE_HIT, token_hash, limits.per_device, limits.per_tenant, limits.window_seconds, now
    )
    if wait is not None:
        raise TooManyRequests(
            "too many requests from this device or its tenant, retry later", retry_after=wait
        )


async def check_user(pool: asyncpg.Pool, limits: RateLimits, user_id: str, now: datetime) -> None:
    """Counts an operator API request of `user_id`."""
    if limits.per_user <= 0:
        return
    wait = await pool.fetchval(USER_RATE_HIT, user_id, limits.per_user, limits.window_seconds, now)
    if wait is not None:
        raise TooManyRequests("too many requests from this user, retry later", retry_after=wait)


async def count_auth_failure(
    pool: asyncpg.Pool, limits: RateLimits, address: str, now: datetime
) -> int | None:
    """Counts a failed device authentication from `address`: None while the address is within its limit,
    else the seconds until it is let off (its bad tokens then get 429 instead of 401)."""
    wait: int | None = await pool.fetchval(
        AUTH_FAILURE, address, limits.auth_failures_per_minute, AUTH_FAILURE_WINDOW, now
    )
    return wait

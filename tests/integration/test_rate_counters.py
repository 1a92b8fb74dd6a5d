"""The rate counters' SQL (db/functions/080_limits.sql), called as the runtime role: concurrent hits on one
key are each counted once and exactly `limit` of them go ahead; a window rolls over; a replica whose clock is
behind counts into the newer window; Retry-After is the window's end; stale address counters are cleaned up;
and the runtime role cannot touch the table nor the internal function."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.infra.db import connect, create_pool
from shared.ratelimits import AUTH_FAILURE, USER_RATE_HIT
from tests.support.pg import TestDB

T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


async def counter(db: TestDB, key: str) -> tuple[datetime, int] | None:
    owner = await connect(db.owner_url)
    try:
        row = await owner.fetchrow("SELECT window_start, hits FROM rate_counters WHERE key = $1", key)
        return (row["window_start"], row["hits"]) if row else None
    finally:
        await owner.close()


async def test_concurrent_hits_are_each_counted_once_and_exactly_the_limit_go_ahead(fresh_db: TestDB) -> None:
    pool = await create_pool(fresh_db.app_url, min_size=10, max_size=10)
    try:
        now = T0 + timedelta(seconds=15)
        answers = await asyncio.gather(*(pool.fetchval(USER_RATE_HIT, "u1", 20, 60, now) for _ in range(60)))
    finally:
        await pool.close()
    assert answers.count(None) == 20
    assert [a for a in answers if a is not None] == [45] * 40  # seconds to the end of the window
    assert await counter(fresh_db, "user:u1") == (T0, 60)


async def test_windows_roll_over_and_a_clock_behind_counts_into_the_newer_window(fresh_db: TestDB) -> None:
    app = await connect(fresh_db.app_url)
    try:
        assert await app.fetchval(USER_RATE_HIT, "u2", 2, 60, T0 + timedelta(seconds=59.5)) is None
        assert await app.fetchval(USER_RATE_HIT, "u2", 2, 60, T0 + timedelta(seconds=59.6)) is None
        assert await app.fetchval(USER_RATE_HIT, "u2", 2, 60, T0 + timedelta(seconds=59.7)) == 1  # at least 1
        # the next window starts afresh
        assert await app.fetchval(USER_RATE_HIT, "u2", 2, 60, T0 + timedelta(seconds=60)) is None
        assert await counter(fresh_db, "user:u2") == (T0 + timedelta(seconds=60), 1)
        # another replica, its clock 2 s behind (still in the old window): counted in the newer one
        assert await app.fetchval(USER_RATE_HIT, "u2", 2, 60, T0 + timedelta(seconds=58)) is None
        assert await app.fetchval(USER_RATE_HIT, "u2", 2, 60, T0 + timedelta(seconds=59)) == 61
        assert await counter(fresh_db, "user:u2") == (T0 + timedelta(seconds=60), 3)
    finally:
        await app.close()


async def test_stale_address_counters_are_deleted_by_later_failures(fresh_db: TestDB) -> None:
    app = await connect(fresh_db.app_url)
    try:
        for i in range(5):
            await app.fetchval(AUTH_FAILURE, f"10.0.0.{i}", 30, 60, T0)
        await app.fetchval(USER_RATE_HIT, "u3", 30, 60, T0)
        assert await app.fetchval(AUTH_FAILURE, "10.9.9.9", 30, 60, T0 + timedelta(minutes=5)) is None
    finally:
        await app.close()
    owner = await connect(fresh_db.owner_url)
    try:
        keys = [r[0] for r in await owner.fetch("SELECT key FROM rate_counters ORDER BY key")]
    finally:
        await owner.close()
    assert keys == ["address:10.9.9.9", "user:u3"]  # other keys are bounded by real users and devices


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM rate_counters",
        "INSERT INTO rate_counters VALUES ('user:x', now(), 0)",
        "SELECT iotcloud.rate_count(ARRAY['user:x'], ARRAY[1000], 60, now())",
    ],
)
async def test_the_runtime_role_goes_only_through_the_definer_functions(fresh_db: TestDB, sql: str) -> None:
    app = await connect(fresh_db.app_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute(sql)
    finally:
        await app.close()
